using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Contracts;

/// <summary>The hub's public contract: one client method "event" with a fixed envelope, and the hub method names.</summary>
public sealed class HubWireContractTests
{
    [Fact]
    public async Task Every_event_is_one_invocation_of_event_with_eventId_channel_selector_json()
    {
        await using var server = await AppServer.StartAsync(s => s.AddServerEvents(), app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));

        await server.ServerEvents.NotifyChannelAsync("home", "cmd.chat", new { Text = "x" }).DefaultTimeout();
        var chat = (await client.WaitForAsync("cmd.chat")).Raw;

        Assert.Equal(["eventId", "channel", "selector", "json"], chat.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, chat.GetProperty("eventId").ValueKind);
        Assert.Equal("home", chat.GetProperty("channel").GetString());
        Assert.Equal("{\"text\":\"x\"}", chat.GetProperty("json").GetString());
        var connect = client.Events[0];
        Assert.Equal("cmd.onConnect", connect.Selector);
        Assert.Equal(["channels", "createdAt", "displayName", "heartbeatIntervalMs", "id", "idleTimeoutMs", "isAuthenticated", "profileUrl", "userId"], connect.Meta.Keys.Order());
    }

    [Fact]
    public void Hub_method_names_are_stable()
    {
        var methods = typeof(ServerEventsHubBase).GetMethods()
            .Where(m => m.DeclaringType == typeof(ServerEventsHubBase) && !m.IsSpecialName && m.Name is not (nameof(Hub.OnConnectedAsync) or nameof(Hub.OnDisconnectedAsync)))
            .Select(m => m.Name)
            .Order();
        Assert.Equal(["GetChannelSubscribers", "SubscribeToChannels", "UnsubscribeFromChannels"], methods);
        Assert.Equal("event", ServerEventsHubBase.ClientMethod);
    }

    [Fact]
    public async Task A_hub_not_registered_with_AddServerEvents_fails_with_a_clear_message()
    {
        await using var server = await AppServer.StartAsync(s => s.AddServerEvents(), app => app.MapHub<UnregisteredHub>("/other"));

        var error = await TestClient.ConnectRefusedAsync(new Uri(server.BaseUri, "/other"));

        Assert.Contains("closed with an error", error);
    }

    public sealed class UnregisteredHub : ServerEventsHubBase;
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task Hooks_shape_the_subscription_and_observe_its_life()
    {
        var calls = new ConcurrentQueue<string>();
        await using var cluster = await StartAsync(o =>
        {
            o.OnCreated = (sub, http) =>
            {
                sub.Meta["team"] = http.Request.Query["team"].ToString();
                sub.ConnectArgs["secret"] = "for-you-only";
                sub.DisplayName = sub.DisplayName.ToUpperInvariant();
                calls.Enqueue("created " + sub.SubscriptionId);
                return ValueTask.CompletedTask;
            };
            o.OnConnect = (sub, payload) =>
            {
                payload["greeting"] = "welcome";
                return ValueTask.CompletedTask;
            };
            o.OnSubscribe = sub =>
            {
                calls.Enqueue("subscribed " + sub.SubscriptionId);
                return ValueTask.CompletedTask;
            };
            o.OnUpdate = sub =>
            {
                calls.Enqueue($"updated {sub.SubscriptionId} {string.Join(',', sub.Channels)}");
                return ValueTask.CompletedTask;
            };
            o.OnUnsubscribe = sub =>
            {
                calls.Enqueue("unsubscribed " + sub.SubscriptionId);
                return ValueTask.CompletedTask;
            };
        });
        var watcher = await cluster.ConnectAsync(1, "home");
        var client = await TestClient.ConnectAsync(cluster.HubUrl(0, "channels=home&team=blue"));

        Assert.Equal("welcome", client.ConnectInfo["greeting"]);
        Assert.Equal("for-you-only", client.ConnectInfo["secret"]);
        Assert.Equal("blue", client.ConnectInfo["team"]);
        Assert.StartsWith("USER", client.DisplayName);
        var join = await watcher.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == client.UserId);
        Assert.Equal("blue", join.Meta["team"]);
        Assert.False(join.Meta.ContainsKey("secret"));

        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "extra" }).DefaultTimeout();
        var id = client.Id;
        await client.DisposeAsync();
        await Eventually.TrueAsync(() => Task.FromResult(calls.Contains("unsubscribed " + id)), "OnUnsubscribe ran");

        var mine = calls.Where(c => c.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.Equal(["created " + id, "subscribed " + id, $"updated {id} home,extra", "unsubscribed " + id], mine);
    }

    [Fact]
    public async Task OnCreated_can_refuse_a_subscription_with_a_reason()
    {
        await using var cluster = await StartAsync(o => o.OnCreated = (_, http) =>
            http.Request.Query.ContainsKey("banned") ? throw new HubException("You are banned.") : ValueTask.CompletedTask);

        var error = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&banned=1"));

        Assert.Contains("You are banned.", error);
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    [Fact]
    public async Task AuthorizeChannel_refuses_a_channel_at_connect_and_at_runtime_without_changing_anything()
    {
        await using var cluster = await StartAsync(o => o.AuthorizeChannel = (sub, channel) =>
            ValueTask.FromResult(!channel.StartsWith("admin", StringComparison.Ordinal) || sub.IsAuthenticated));

        var refused = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home,admin-room"));
        Assert.Contains("admin-room", refused);
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());

        var anon = await cluster.ConnectAsync(1, "home");
        var ex = await Assert.ThrowsAsync<HubException>(() => anon.Connection.InvokeAsync("SubscribeToChannels", new[] { "news", "admin-room" }).DefaultTimeout());
        Assert.Contains("Not allowed to join channel 'admin-room'", ex.Message);
        Assert.Equal(["home"], (await cluster.Api(2).GetSubscriptionInfoAsync(anon.Id).DefaultTimeout())!.Channels);

        var admin = await cluster.ConnectAsync(2, "home,admin-room", user: "root;root");
        Assert.Equal("home,admin-room", admin.ConnectInfo["channels"]);
    }

    [Fact]
    public async Task LimitToAuthenticatedUsers_refuses_anonymous_subscriptions()
    {
        await using var cluster = await StartAsync(o => o.LimitToAuthenticatedUsers = true);

        var error = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home"));
        Assert.Contains("Not authenticated", error);

        var user = await cluster.ConnectAsync(1, "home", user: "u1;alice");
        Assert.Equal("true", user.ConnectInfo["isAuthenticated"]);
    }
}

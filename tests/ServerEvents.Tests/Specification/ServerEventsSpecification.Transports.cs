using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

/// <summary>
/// The official .NET client over each SignalR transport and both hub protocols: delivery, lifecycle and presence, once
/// per combination and back-end (the rest of the suite negotiates and so runs on WebSockets with JSON).
/// </summary>
public abstract partial class ServerEventsSpecification
{
    /// <summary>Every pair SignalR allows (Server-Sent Events carry text only, so not MessagePack).</summary>
    public static TheoryData<HttpTransportType, bool> TransportsAndProtocols => new()
    {
        { HttpTransportType.WebSockets, false },
        { HttpTransportType.ServerSentEvents, false },
        { HttpTransportType.LongPolling, false },
        { HttpTransportType.WebSockets, true },
        { HttpTransportType.LongPolling, true },
    };

    [Theory]
    [MemberData(nameof(TransportsAndProtocols))]
    public async Task Delivery_lifecycle_and_presence_work_over_each_transport_and_hub_protocol(HttpTransportType transport, bool messagePack)
    {
        await using var cluster = await StartWithBothProtocolsAsync();
        var watcher = await cluster.ConnectAsync(1, "room");
        var client = await TestClient.ConnectAsync(cluster.HubUrl(0, "channels=room"), transports: transport, messagePack: messagePack);

        // Lifecycle: onConnect first, carrying the envelope's fields by their wire names; the join announced to others.
        Assert.Equal("cmd.onConnect", client.Events[0].Selector);
        Assert.True(client.Events[0].EventId > 0);
        await watcher.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == client.UserId);

        // Delivery: to the channel, to the one subscription, to its user.
        await cluster.Api(1).NotifyChannelAsync("room", "cmd.chat", new { text = "hi" }).DefaultTimeout();
        var chat = await client.WaitForAsync(e => e.Selector == "cmd.chat");
        Assert.Equal("room", chat.Channel);
        Assert.Equal("""{"text":"hi"}""", chat.Json);
        await cluster.Api(2).NotifySubscriptionAsync(client.Id, "cmd.direct", 1).DefaultTimeout();
        await cluster.Api(0).NotifyUserIdAsync(client.UserId, "cmd.user", 2).DefaultTimeout();
        await client.WaitForAsync(e => e.Selector == "cmd.direct");
        await client.WaitForAsync(e => e.Selector == "cmd.user");

        // Presence and channel changes through the hub's methods.
        var subscribers = await client.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "room" }).DefaultTimeout();
        Assert.Equal(new[] { client.UserId, watcher.UserId }.Order(StringComparer.Ordinal), subscribers.Select(s => s["userId"]).Order(StringComparer.Ordinal));
        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "more" }).DefaultTimeout();
        await cluster.Api(1).NotifyChannelAsync("more", "cmd.more", 3).DefaultTimeout();
        Assert.Equal("more", (await client.WaitForAsync(e => e.Selector == "cmd.more")).Channel);

        // Ids ascend strictly over the whole stream, onConnect's included, whatever the transport.
        var ids = client.Events.Select(e => e.EventId).ToList();
        Assert.All(ids.Skip(1).Zip(ids), pair => Assert.True(pair.First > pair.Second, $"{pair.First} after {pair.Second}"));

        await client.DisposeAsync();
        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == client.UserId);
    }

    [Theory]
    [MemberData(nameof(TransportsAndProtocols))]
    public async Task A_burst_of_events_arrives_each_once_and_in_id_order_over_each_transport_and_hub_protocol(HttpTransportType transport, bool messagePack)
    {
        await using var cluster = await StartWithBothProtocolsAsync();
        var client = await TestClient.ConnectAsync(cluster.HubUrl(0, "channels=room"), transports: transport, messagePack: messagePack);

        // Fifty notifies at a time: on Redis they travel in batches, and a connection gets a batch's events in one write.
        const int messages = 400;
        for (var first = 1; first <= messages; first += 50)
        {
            await Task.WhenAll(Enumerable.Range(first, 50).Select(n => cluster.Api(1).NotifyChannelAsync("room", "cmd.n", n))).DefaultTimeout();
        }
        var received = (await client.BarrierAsync(cluster.Api(1))).Where(e => e.Selector == "cmd.n").ToList();

        Assert.Equal(Enumerable.Range(1, messages), received.Select(e => int.Parse(e.Json, System.Globalization.CultureInfo.InvariantCulture)).Order());
        Assert.All(received.Skip(1).Zip(received), pair => Assert.True(pair.First.EventId > pair.Second.EventId, $"{pair.First.EventId} after {pair.Second.EventId}"));
    }

    /// <summary>Three servers of the back-end under test that speak JSON and MessagePack.</summary>
    private Task<TestCluster> StartWithBothProtocolsAsync() => StartAsync(services =>
    {
        UseBackend(services.AddServerEvents());
        services.AddSignalR().AddMessagePackProtocol();
    }, app => app.MapServerEvents("/hub"));
}

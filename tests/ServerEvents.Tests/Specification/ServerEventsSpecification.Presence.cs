using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task Presence_queries_answer_for_every_subscription_from_any_server()
    {
        await using var cluster = await StartAsync();
        var alice = await cluster.ConnectAsync(0, "home,news", user: "a1;alice");
        var alice2 = await cluster.ConnectAsync(1, "news", user: "a1;alice");
        var anon = await cluster.ConnectAsync(2, "home");
        var api = cluster.Api(1);

        var byUser = await api.GetSubscriptionInfosByUserIdAsync("a1").DefaultTimeout();
        Assert.Equal(new[] { alice.Id, alice2.Id }.Order(), byUser.Select(s => s.SubscriptionId).Order());

        var all = await api.GetAllSubscriptionInfosAsync().DefaultTimeout();
        Assert.Equal(3, all.Count);

        var homeDetails = await api.GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout();
        Assert.Equal(new[] { alice.UserId, anon.UserId }.Order(), homeDetails.Select(d => d["userId"]).Order());
        Assert.All(homeDetails, d => Assert.False(d.ContainsKey("id")));
        var homeOrNews = await api.GetSubscriptionsDetailsAsync(["home", "news"]).DefaultTimeout();
        Assert.Equal(3, homeOrNews.Count);
        // As ServiceStack: no channel lists nobody; everyone is GetAllSubscriptionsDetails.
        Assert.Empty(await api.GetSubscriptionsDetailsAsync([]).DefaultTimeout());
        var everyone = await api.GetAllSubscriptionsDetailsAsync().DefaultTimeout();
        Assert.Equal(new[] { alice.UserId, alice2.UserId, anon.UserId }.Order(), everyone.Select(d => d["userId"]).Order());

        var counts = await api.GetChannelCountsAsync().DefaultTimeout();
        Assert.Equal(2, counts["home"]);
        Assert.Equal(2, counts["news"]);

        var stats = await api.GetStatsAsync().DefaultTimeout();
        Assert.Equal(3, stats.TotalSubscriptions);
    }

    [Fact]
    public async Task Clients_that_drop_during_the_handshake_leave_no_presence_behind()
    {
        await using var cluster = await StartAsync();
        var watcher = await cluster.ConnectAsync(0, "watch");

        // Dispose as soon as the transport is up, so disconnects race the subscription's registration.
        var dropped = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            try
            {
                var client = await TestClient.StartOnlyAsync(cluster.HubUrl(i, "channels=home"));
                await client.DisposeAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or IOException or System.Net.WebSockets.WebSocketException)
            {
                // The client transport may trip over its own teardown in this race; only the server side is under test.
            }
            return i;
        }));

        for (var server = 0; server < cluster.Count; server++)
        {
            var api = cluster.Api(server);
            // A connection the server accepted late may still register and then leave: wait for both views to settle.
            await Eventually.TrueAsync(
                async () => (await api.GetAllSubscriptionInfosAsync()).Select(s => s.SubscriptionId).SequenceEqual([watcher.Id])
                    && !(await api.GetChannelCountsAsync()).ContainsKey("home"),
                $"server {server} still lists subscriptions of dropped clients");
        }
        Assert.Equal(12, dropped.Length);
    }

    [Fact]
    public async Task GetChannelSubscribers_hub_method_returns_meta_dictionaries()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.ConnectAsync(0, "home", user: "a1;alice");
        await cluster.ConnectAsync(1, "other");

        var subscribers = await a.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "home" }).DefaultTimeout();

        var only = Assert.Single(subscribers);
        Assert.Equal("a1", only["userId"]);
        Assert.Equal("alice", only["displayName"]);
        Assert.Equal("home", only["channels"]);
        Assert.Equal("true", only["isAuthenticated"]);
        Assert.Equal(["channels", "createdAt", "displayName", "isAuthenticated", "profileUrl", "userId"], only.Keys.Order());
    }

    [Fact]
    public async Task UnRegister_closes_the_connection_sends_leave_and_forgets_the_subscription()
    {
        await using var cluster = await StartAsync();
        var stays = await cluster.ConnectAsync(0, "home");
        var goes = await cluster.ConnectAsync(1, "home");

        var removed = await cluster.Api(0).UnRegisterAsync(goes.Id).DefaultTimeout();

        Assert.Equal(goes.Id, removed!.SubscriptionId);
        await goes.Closed.DefaultTimeout();
        await stays.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == goes.UserId);
        Assert.Null(await cluster.Api(2).GetSubscriptionInfoAsync(goes.Id).DefaultTimeout());
        Assert.Null(await cluster.Api(2).UnRegisterAsync(goes.Id).DefaultTimeout());
        var leaves = (await stays.BarrierAsync(cluster.Api(1))).Count(e => e.Selector == "cmd.onLeave");
        Assert.Equal(1, leaves);
    }

    [Fact]
    public async Task Pulse_sends_onHeartbeat_to_that_subscription_and_refreshes_last_pulse()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var before = (await cluster.Api(1).GetSubscriptionInfoAsync(client.Id).DefaultTimeout())!.LastPulseAt;

        Assert.True(await cluster.Api(1).PulseAsync(client.Id).DefaultTimeout());

        var heartbeat = await client.WaitForAsync("cmd.onHeartbeat");
        Assert.Null(heartbeat.Channel);
        Assert.Equal(client.UserId, heartbeat.Meta["userId"]);
        var after = (await cluster.Api(2).GetSubscriptionInfoAsync(client.Id).DefaultTimeout())!.LastPulseAt;
        Assert.True(after >= before);
        Assert.False(await cluster.Api(2).PulseAsync("no-such-subscription").DefaultTimeout());
    }

    [Fact]
    public async Task Sequences_are_atomic_across_servers()
    {
        await using var cluster = await StartAsync();
        var name = "seq-" + Guid.NewGuid().ToString("N");

        var values = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => cluster.Api(i).GetNextSequenceAsync(name))).DefaultTimeout();

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), values.Order());
    }

    [Fact]
    public async Task Reset_forgets_every_subscription_and_closes_connections()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.ConnectAsync(0, "home");
        var b = await cluster.ConnectAsync(1, "home");

        await cluster.Api(2).ResetAsync().DefaultTimeout();

        Assert.Empty(await cluster.Api(0).GetAllSubscriptionInfosAsync().DefaultTimeout());
        await a.Closed.DefaultTimeout();
        await b.Closed.DefaultTimeout();
        var fresh = await cluster.ConnectAsync(1, "home");
        Assert.Single(await cluster.Api(0).GetAllSubscriptionInfosAsync().DefaultTimeout());
        Assert.NotEqual(a.Id, fresh.Id);
    }

    [Fact]
    public async Task Stats_count_connections_unsubscriptions_and_notifications()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(0);
        var before = await api.GetStatsAsync().DefaultTimeout();

        await api.NotifyChannelAsync("home", "cmd.x", 1).DefaultTimeout();
        await client.DisposeAsync();
        await Eventually.TrueAsync(async () => (await cluster[0].ServerEvents.GetStatsAsync()).TotalUnsubscriptions > before.TotalUnsubscriptions, "the disconnect is counted");

        var after = await api.GetStatsAsync().DefaultTimeout();
        Assert.True(before.TotalConnections >= 1);
        Assert.Equal(1, before.LocalSubscriptions);
        Assert.True(after.NotificationsSent > before.NotificationsSent);
        Assert.Equal(0, after.LocalSubscriptions);
        Assert.False(string.IsNullOrEmpty(after.ServerId));
    }
}

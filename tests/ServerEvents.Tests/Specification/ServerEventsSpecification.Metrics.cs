using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

/// <summary>The <c>ServerEvents</c> meter, read per app server through its own <see cref="IMeterFactory"/>, as an exporter would.</summary>
public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task Metrics_count_connections_subscriptions_notifies_and_deliveries_on_each_server()
    {
        await using var cluster = await StartAsync();
        using var connections = Collect<long>(cluster, "serverevents.connections");
        using var subscriptions = Collect<long>(cluster, "serverevents.subscriptions");
        using var deliveries = Collect<long>(cluster, "serverevents.deliveries");
        using var notifies = Collect<long>(cluster, "serverevents.notifies");
        using var sizes = Collect<int>(cluster, "serverevents.event.size");

        var a = await cluster.ConnectAsync(0, "metered");
        var b = await cluster.ConnectAsync(1, "metered");
        var c = await cluster.ConnectAsync(2, "metered,other");
        Assert.Equal(3, connections.Sum("serverevents.transport", "hub"));
        Assert.Equal(3, subscriptions.Sum("serverevents.transport", "hub"));
        Assert.Equal(0, subscriptions.Sum("serverevents.transport", "sse"));

        // What the joins delivered so far is the baseline: each notify below adds exactly its recipients. A barrier
        // through each client proves everything before it was written to it (and its count taken a moment before).
        foreach (var client in new[] { a, b, c })
        {
            await client.BarrierAsync(cluster.Api(0));
        }
        await Task.Delay(100);
        var before = deliveries.Sum();
        const string body = """{"text":"héllo"}""";
        await cluster.Api(1).NotifyChannelJsonAsync("metered", "cmd.chat", body).DefaultTimeout();
        foreach (var client in new[] { a, b, c })
        {
            await client.WaitForAsync(e => e.Selector == "cmd.chat");
        }
        await Eventually.TrueAsync(() => Task.FromResult(deliveries.Sum() - before == 3), $"3 deliveries, counted {deliveries.Sum() - before}");
        Assert.Equal(1, notifies.Servers[1 % cluster.Count].Sum("serverevents.target", "channel"));
        Assert.Contains(Encoding.UTF8.GetByteCount(body), sizes.Servers[1 % cluster.Count].Values());

        await cluster.Api(2).NotifyUserIdAsync(a.UserId, "cmd.private", new { to = "a" }).DefaultTimeout();
        await a.WaitForAsync(e => e.Selector == "cmd.private");
        await Eventually.TrueAsync(() => Task.FromResult(deliveries.Sum() - before == 4), $"4 deliveries, counted {deliveries.Sum() - before}");
        Assert.Equal(1, notifies.Servers[2 % cluster.Count].Sum("serverevents.target", "user_id"));

        // Every other target kind, tagged as such (the barriers above were notifies to one subscription each).
        var earlier = new[] { "all", "channels", "user_name", "session", "subscription" }.ToDictionary(t => t, t => notifies.Servers[0].Sum("serverevents.target", t));
        var api = cluster.Api(0);
        await api.NotifyAllAsync("cmd.k", 1).DefaultTimeout();
        await api.NotifyChannelsAsync(["metered", "other"], "cmd.k", 1).DefaultTimeout();
        await api.NotifyUserNameAsync("nobody", "cmd.k", 1).DefaultTimeout();
        await api.NotifySessionAsync("no-session", "cmd.k", 1).DefaultTimeout();
        await api.NotifySubscriptionAsync(b.Id, "cmd.k", 1).DefaultTimeout();
        foreach (var target in new[] { "all", "channels", "user_name", "session", "subscription" })
        {
            Assert.Equal(1, notifies.Servers[0].Sum("serverevents.target", target) - earlier[target]);
        }

        await a.DisposeAsync();
        await b.DisposeAsync();
        await c.DisposeAsync();
        await Eventually.TrueAsync(() => Task.FromResult(subscriptions.Sum() == 0 && connections.Sum() == 0),
            $"everything closed, still counted: {subscriptions.Sum()} subscriptions, {connections.Sum()} connections");
    }

    [Fact]
    public async Task Metrics_count_resumes_by_outcome_and_the_resets_and_replayed_events()
    {
        await using var cluster = await StartAsync();
        using var resumes = Collect<long>(cluster, "serverevents.resumes");
        using var replayed = Collect<long>(cluster, "serverevents.replayed_events");
        using var resets = Collect<long>(cluster, "serverevents.resets");
        var last = await SeeOneEventThenLeaveAsync(cluster, -1);
        for (var i = 0; i < 5; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }

        var complete = await cluster.ConnectAsync(1, "home", lastEventId: last);
        await complete.WaitForAsync(e => e.Selector == "cmd.seq" && e.Json == "4");
        Assert.Equal(1, resumes.Sum("serverevents.resume.outcome", "complete"));
        // The five, and the first client's own cmd.onLeave, sent to the channel after it left.
        Assert.Equal(6, complete.Events.Count(e => e.Selector is "cmd.seq" or "cmd.onLeave"));
        Assert.Equal(6, replayed.Sum());
        Assert.Equal(0, resets.Sum());

        // An id from long before this run: history cannot say what followed it.
        var tooOld = await cluster.ConnectAsync(2, "home", lastEventId: 1);
        await tooOld.WaitForAsync(e => e.Selector == ResetSelector);
        Assert.Equal(1, resumes.Sum("serverevents.resume.outcome", "reset"));
        Assert.Equal(1, resets.Sum("serverevents.reset.reason", "too_old"));
    }

    [Fact]
    public async Task Metrics_count_refusals_by_rule()
    {
        await using var cluster = await StartAsync();
        using var refusals = Collect<long>(cluster, "serverevents.refusals");

        await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=bad%0Aname"));

        Assert.Equal(1, refusals.Sum("serverevents.rule", "connect_input"));
    }

    [Fact]
    public async Task Metrics_report_the_Redis_connections_buffer_and_script_round_trips_and_nothing_of_Redis_on_memory()
    {
        await using var cluster = await StartAsync();
        using var connected = Collect<int>(cluster, "serverevents.redis.connected");
        using var buffered = Collect<int>(cluster, "serverevents.redis.buffered_notifies");
        using var durations = Collect<double>(cluster, "serverevents.redis.duration");
        var client = await cluster.ConnectAsync(0, "home");
        await cluster.Api(1).NotifyChannelAsync("home", "cmd.timed", 1).DefaultTimeout();
        await client.WaitForAsync(e => e.Selector == "cmd.timed");

        connected.RecordObservable();
        buffered.RecordObservable();
        var onRedis = cluster[0].Services.GetService<Redis.Internal.RedisBackplane>() is not null;
        if (!onRedis)
        {
            Assert.Empty(connected.All);
            Assert.Empty(buffered.All);
            Assert.Empty(durations.All);
            return;
        }
        foreach (var server in connected.Servers)
        {
            Assert.Equal(1, server.Last("serverevents.redis.connection", "command"));
            Assert.Equal(1, server.Last("serverevents.redis.connection", "pubsub"));
        }
        Assert.All(buffered.Servers, server => Assert.Equal(0, server.Last()));
        var sends = durations.Servers[1].Measurements.Where(m => m.Tags["serverevents.redis.script"] as string is "send" or "send-batch").ToList();
        Assert.NotEmpty(sends);
        Assert.All(sends, m => Assert.InRange(m.Value, 0, 5));
    }

    private static ClusterMetrics<T> Collect<T>(TestCluster cluster, string instrument)
        where T : struct => ClusterMetrics.Of<T>(cluster, instrument);
}

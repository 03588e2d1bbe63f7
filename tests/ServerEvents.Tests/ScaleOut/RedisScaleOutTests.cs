using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Redis.Internal;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>
/// What only several app servers on one Redis can show: cross-server control, presence that agrees everywhere, a
/// killed server swept by the survivors, a Redis restart survived without an app restart, and the Redis cost of a
/// notify. Run on one redis-server and on a Redis Cluster.
/// </summary>
public abstract class RedisScaleOutSpecification(ITestOutputHelper output)
{
    private readonly string _prefix = "s" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The Redis the test collection shares.</summary>
    protected abstract string SharedConnectionString { get; }

    /// <summary>A Redis of the test's own (to kill, restart or flush).</summary>
    protected abstract Task<RedisDeployment> StartOwnRedisAsync();

    private Task<TestCluster> StartAsync(string connectionString, Action<ServerEventsOptions>? configure = null, Action<RedisBackplaneOptions>? backplane = null) =>
        TestCluster.StartAsync(3, services => services.AddServerEvents(configure ?? (_ => { })).AddRedis(connectionString, o =>
        {
            o.Prefix = _prefix;
            backplane?.Invoke(o);
        }), app => app.MapServerEvents("/hub"));

    [Fact]
    public async Task Every_notify_target_crosses_servers()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        // The same user, session and channel on all three servers.
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home", user: "u1;ursula", session: "s1"));
        }

        for (var from = 0; from < 3; from++)
        {
            var api = cluster.Api(from);
            var tag = $"from{from}";
            await api.NotifyAllAsync("cmd.all", tag).DefaultTimeout();
            await api.NotifyChannelAsync("home", "cmd.channel", tag).DefaultTimeout();
            await api.NotifyUserIdAsync("u1", "cmd.userId", tag).DefaultTimeout();
            await api.NotifyUserNameAsync("ursula", "cmd.userName", tag).DefaultTimeout();
            await api.NotifySessionAsync("s1", "cmd.session", tag).DefaultTimeout();
            foreach (var client in clients)
            {
                await api.NotifySubscriptionAsync(client.Id, "cmd.subscription", tag).DefaultTimeout();
            }
        }

        foreach (var client in clients)
        {
            foreach (var selector in new[] { "cmd.all", "cmd.channel", "cmd.userId", "cmd.userName", "cmd.session", "cmd.subscription" })
            {
                for (var from = 0; from < 3; from++)
                {
                    var tag = $"\"from{from}\"";
                    await client.WaitForAsync(e => e.Selector == selector && e.Json == tag);
                }
            }
            var received = await client.BarrierAsync(cluster.Api(0));
            Assert.Equal(18, received.Count(e => e.Json.StartsWith("\"from", StringComparison.Ordinal)));
        }
    }

    [Theory]
    [InlineData("ServerEvents:Redis")]
    [InlineData("ConnectionStrings:Redis")]
    public async Task One_configuration_value_switches_servers_to_redis(string key)
    {
        await using var ownRedis = await StartOwnRedisAsync();
        var configured = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = ownRedis.ConnectionString }).Build();
        await using var cluster = await TestCluster.StartAsync(2, services => services.AddServerEvents().AddRedisFromConfiguration(configured), app => app.MapServerEvents("/hub"));
        var client = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.viaConfig", 1).DefaultTimeout();

        await client.WaitForAsync("cmd.viaConfig", "home");
        Assert.Equal(1, (await cluster.Api(1).GetChannelCountsAsync().DefaultTimeout())["home"]);
    }

    [Fact]
    public async Task Without_a_redis_value_and_Redis_not_required_the_memory_back_end_stays()
    {
        var empty = new ConfigurationBuilder().Build();
        var services = new ServiceCollection().AddLogging();
        services.AddServerEvents().AddRedisFromConfiguration(empty, required: false);
        await using var provider = services.BuildServiceProvider();
        Assert.IsAssignableFrom<DefaultHubLifetimeManager<ServerEventsHub>>(provider.GetRequiredService<HubLifetimeManager<ServerEventsHub>>());
    }

    [Fact]
    public async Task Multi_group_and_multi_user_sends_reach_members_on_every_server()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var inA = await cluster.ConnectAsync(0, "a", user: "u1;una");
        var inB = await cluster.ConnectAsync(2, "b", user: "u2;ugo");
        var outside = await cluster.ConnectAsync(1, "c", user: "u3;ulf");
        var clients = cluster[1].HubContext<ServerEventsHub>().Clients;

        await clients.Groups("a", "b").SendAsync("event", new ServerEvent(0, null, "cmd.groups", "1")).DefaultTimeout();
        await clients.Users("u1", "u2").SendAsync("event", new ServerEvent(0, null, "cmd.users", "2")).DefaultTimeout();

        foreach (var member in new[] { inA, inB })
        {
            await member.WaitForAsync("cmd.groups");
            await member.WaitForAsync("cmd.users");
        }
        Assert.DoesNotContain(await outside.BarrierAsync(cluster.Api(0)), e => e.Selector is "cmd.groups" or "cmd.users");
    }

    [Fact]
    public async Task One_servers_concurrent_notifies_reach_every_client_in_id_order()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var local = await cluster.ConnectAsync(0, "home");
        var remote = await cluster.ConnectAsync(1, "home");
        var api = cluster.Api(0);

        // Many notifies in flight at once from one server: their ids come from Redis in one order, and both
        // the publisher's own clients and the other servers' clients must see exactly that order.
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => api.NotifyChannelAsync("home", "cmd.burst", i))).DefaultTimeout();

        foreach (var client in new[] { local, remote })
        {
            var ids = (await client.BarrierAsync(api)).Where(e => e.Selector == "cmd.burst").Select(e => e.EventId).ToList();
            Assert.Equal(300, ids.Count);
            Assert.Equal(ids.Order(), ids);
        }
    }

    [Fact]
    public async Task Presence_and_counts_agree_on_every_server()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var clients = new List<TestClient>();
        for (var i = 0; i < 9; i++)
        {
            clients.Add(await cluster.ConnectAsync(i, i % 2 == 0 ? "home,news" : "home", user: $"u{i % 4};user{i % 4}"));
        }
        // Channel changes requested on servers that do not own the connections.
        await cluster.Api(1).SubscribeToChannelsAsync(clients[0].Id, ["extra"]).DefaultTimeout();
        await cluster.Api(2).UnsubscribeFromChannelsAsync(clients[2].Id, ["news"]).DefaultTimeout();
        await clients[4].DisposeAsync();
        await Eventually.TrueAsync(async () => (await cluster.Api(0).GetAllSubscriptionInfosAsync()).Count == 8, "the closed client is still listed");

        var views = new List<string>();
        for (var server = 0; server < 3; server++)
        {
            var api = cluster.Api(server);
            var all = await api.GetAllSubscriptionInfosAsync().DefaultTimeout();
            var counts = await api.GetChannelCountsAsync().DefaultTimeout();
            var home = await api.GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout();
            var byUser = await api.GetSubscriptionInfosByUserIdAsync("u0").DefaultTimeout();
            views.Add(string.Join(" | ",
                string.Join(',', all.Select(s => $"{s.SubscriptionId}:{string.Join('+', s.Channels)}").Order()),
                string.Join(',', counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")),
                string.Join(',', home.Select(d => d["userId"]).Order()),
                string.Join(',', byUser.Select(s => s.SubscriptionId).Order())));
            Assert.Equal(8, all.Count);
            Assert.Equal(8, counts["home"]);
            Assert.Equal(3, counts["news"]);
            Assert.Equal(1, counts["extra"]);
        }
        output.WriteLine(views[0]);
        Assert.Equal(views[0], views[1]);
        Assert.Equal(views[0], views[2]);
    }

    [Fact]
    public async Task Unsubscribe_and_unregister_work_from_a_server_that_does_not_own_the_connection()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var target = await cluster.ConnectAsync(0, "home,news");
        var watcher = await cluster.ConnectAsync(2, "home,news");

        var info = await cluster.Api(1).UnsubscribeFromChannelsAsync(target.Id, ["news"]).DefaultTimeout();
        Assert.Equal(["home"], info!.Channels);
        var update = await target.WaitForAsync("cmd.onUpdate");
        Assert.Equal("home", update.Meta["channels"]);
        // ServiceStack announces a channel change with onUpdate (not onLeave) to the channels involved.
        await watcher.WaitForAsync(e => e.Selector == "cmd.onUpdate" && e.Channel == "news" && e.Meta["userId"] == target.UserId);

        // The SignalR group really changed on the owning server: news no longer reaches it.
        await cluster.Api(2).NotifyChannelAsync("news", "cmd.news", 1).DefaultTimeout();
        await watcher.WaitForAsync("cmd.news");
        Assert.DoesNotContain(await target.BarrierAsync(cluster.Api(1)), e => e.Selector == "cmd.news");

        var removed = await cluster.Api(1).UnRegisterAsync(target.Id).DefaultTimeout();
        Assert.NotNull(removed);
        await target.Closed.DefaultTimeout();
        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Channel == "home" && e.Meta["userId"] == target.UserId);
        for (var server = 0; server < 3; server++)
        {
            Assert.Null(await cluster.Api(server).GetSubscriptionInfoAsync(target.Id).DefaultTimeout());
        }
    }

    [Fact]
    public async Task Group_change_for_a_connection_no_server_owns_fails_fast_with_a_clear_error()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var groups = cluster[0].HubContext<ServerEventsHub>().Groups;

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => groups.AddToGroupAsync("no-such-connection", "home").DefaultTimeout());
        Assert.Contains("no server owns that connection", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}"); // well before the 5 s ack timeout
        // Removing a connection nobody owns is already done: no error.
        await groups.RemoveFromGroupAsync("no-such-connection", "home").DefaultTimeout();

        // A connection owned by another server is acknowledged by that server.
        var client = await cluster.ConnectAsync(2, "home");
        await groups.AddToGroupAsync(client.Id, "private").DefaultTimeout();
        await cluster[1].HubContext<ServerEventsHub>().Clients.Group("private").SendAsync("event", new ServerEvent(0, "private", "cmd.hello", "1")).DefaultTimeout();
        await client.WaitForAsync("cmd.hello", "private");
    }

    [Fact]
    public async Task A_killed_server_is_swept_by_the_survivors_with_leave_events()
    {
        // A liveness TTL of 3 s (3 × 1 s): with 1.5 s a survivor stalled by the rest of the suite on two cores could look
        // dead to the others for a moment and be swept itself, which this test is not about.
        var housekeeping = TimeSpan.FromSeconds(1);
        var idle = TimeSpan.FromSeconds(10);
        await using var cluster = await StartAsync(SharedConnectionString, o =>
        {
            o.HouseKeepingInterval = housekeeping;
            o.IdleTimeout = idle;
            o.HeartbeatInterval = idle / 3;
        });
        await using var doomed = await HostProcess.StartAsync(
            $"--redis={SharedConnectionString}", $"--prefix={_prefix}", $"--housekeeping={housekeeping}", $"--idle={idle}");
        var survivor = await cluster.ConnectAsync(0, "home");
        var victims = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            var victim = await TestClient.ConnectAsync(doomed.HubUrl("channels=home"));
            victims.Add(victim);
            await survivor.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == victim.UserId);
        }
        Assert.Equal(4, (await cluster.Api(1).GetChannelCountsAsync().DefaultTimeout())["home"]);

        await doomed.KillAsync();
        var clock = Stopwatch.StartNew();

        try
        {
            foreach (var victim in victims)
            {
                await survivor.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == victim.UserId);
            }
        }
        catch (TimeoutException)
        {
            for (var server = 0; server < 3; server++)
            {
                var backplane = cluster[server].Services.GetRequiredService<RedisBackplane>();
                var presence = await cluster.Api(server).GetAllSubscriptionInfosAsync().DefaultTimeout();
                output.WriteLine($"server {server}: inbox live {backplane.InboxLive}, awaiting back-fill {backplane.AwaitingBackfill}, " +
                    $"command connection {backplane.IsConnected}, presence [{string.Join(", ", presence.Select(p => p.UserId))}]");
            }
            output.WriteLine(string.Join("\n", FailureLog.Snapshot.TakeLast(20)));
            throw;
        }
        var swept = clock.Elapsed;
        output.WriteLine($"Subscriptions of the killed server swept {swept.TotalSeconds:0.0} s after kill -9 (idle timeout {idle.TotalSeconds} s, liveness TTL {3 * housekeeping.TotalSeconds} s).");
        Assert.True(swept < idle, $"sweep took {swept}, longer than the idle timeout");
        for (var server = 0; server < 3; server++)
        {
            var all = await cluster.Api(server).GetAllSubscriptionInfosAsync().DefaultTimeout();
            Assert.Equal([survivor.Id], all.Select(s => s.SubscriptionId));
            Assert.Equal(1, (await cluster.Api(server).GetChannelCountsAsync().DefaultTimeout())["home"]);
        }
        // Exactly one survivor sent each leave, however many swept at once.
        var leaves = (await survivor.BarrierAsync(cluster.Api(0))).Count(e => e.Selector == "cmd.onLeave");
        Assert.Equal(3, leaves);
        foreach (var victim in victims)
        {
            await victim.DisposeAsync();
        }
    }

    [Fact]
    public async Task Redis_restart_resumes_delivery_on_every_server_and_rebuilds_presence()
    {
        await using var ownRedis = await StartOwnRedisAsync();
        await using var cluster = await StartAsync(ownRedis.ConnectionString);
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home"));
        }
        // A channel change requested remotely before the outage must survive the rebuild.
        await cluster.Api(2).SubscribeToChannelsAsync(clients[0].Id, ["extra"]).DefaultTimeout();

        await cluster.Api(0).NotifyChannelAsync("home", "cmd.before", 0).DefaultTimeout();
        var lastIdBefore = (await clients[1].WaitForAsync("cmd.before")).EventId;

        await ownRedis.KillAsync();
        // While Redis is down, a notify is accepted at once (buffered) instead of hanging or failing.
        await Eventually.TrueAsync(() => Task.FromResult(!cluster[1].Services.GetRequiredService<Redis.Internal.RedisBackplane>().IsConnected), "server 1 did not notice Redis was gone");
        var down = Stopwatch.StartNew();
        await cluster.Api(1).NotifyChannelAsync("home", "cmd.buffered", 0).DefaultTimeout();
        Assert.True(down.Elapsed < TimeSpan.FromSeconds(3), $"a notify with Redis down took {down.Elapsed}");

        await ownRedis.RestartAsync();
        var clock = Stopwatch.StartNew();

        // Delivery: every server's notify reaches every client again.
        var round = 0;
        await Eventually.TrueAsync(async () =>
        {
            var tag = ++round;
            try
            {
                for (var server = 0; server < 3; server++)
                {
                    await cluster.Api(server).NotifyChannelAsync("home", "cmd.after", $"{server}:{tag}");
                }
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                return false;
            }
            // A round counts once all of its events arrived (the first ones may still be buffered).
            foreach (var client in clients)
            {
                for (var server = 0; server < 3; server++)
                {
                    var expected = $"\"{server}:{tag}\"";
                    try
                    {
                        await client.WaitForAsync(e => e.Selector == "cmd.after" && e.Json == expected, TimeSpan.FromSeconds(1));
                    }
                    catch (TimeoutException)
                    {
                        return false;
                    }
                }
            }
            return true;
        }, "delivery did not resume on every server after the Redis restart");
        var deliveryBack = clock.Elapsed;

        // Presence: every server re-registered its live subscriptions, with their current channels.
        await Eventually.TrueAsync(async () =>
        {
            for (var server = 0; server < 3; server++)
            {
                var all = await cluster.Api(server).GetAllSubscriptionInfosAsync();
                if (all.Count != 3)
                {
                    return false;
                }
            }
            return true;
        }, "presence was not rebuilt on every server");
        var presenceBack = clock.Elapsed;
        output.WriteLine($"After the Redis restart: delivery resumed in {deliveryBack.TotalMilliseconds:0} ms, presence rebuilt in {presenceBack.TotalMilliseconds:0} ms.");

        // The buffered notify reached every client once; Redis lost its history, so each was told so first.
        foreach (var client in clients)
        {
            var events = client.Events.SkipWhile(e => e.Selector != "cmd.onReset").ToList();
            Assert.NotEmpty(events);
            Assert.Single(events, e => e.Selector == "cmd.buffered");
            Assert.Equal(events.Select(e => e.EventId).Order(), events.Select(e => e.EventId));
            Assert.Single(client.Events, e => e.Selector == "cmd.buffered");
        }

        // Event ids keep increasing although Redis forgot its counter.
        Assert.All(clients[1].Events.Where(e => e.Selector == "cmd.after"), e => Assert.True(e.EventId > lastIdBefore, $"{e.EventId} <= {lastIdBefore}"));

        var first = await cluster.Api(1).GetSubscriptionInfoAsync(clients[0].Id).DefaultTimeout();
        Assert.Equal(["home", "extra"], first!.Channels);
        Assert.Equal(3, (await cluster.Api(2).GetChannelCountsAsync().DefaultTimeout())["home"]);

        // New connections after the restart get ids that do not collide with the restored ones.
        var newcomer = await cluster.ConnectAsync(1, "home");
        Assert.DoesNotContain(newcomer.UserId, clients.Select(c => c.UserId));
        foreach (var client in clients)
        {
            await client.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == newcomer.UserId);
        }
    }

    [Fact]
    public async Task Data_lost_without_a_reconnect_is_rewritten_by_housekeeping()
    {
        await using var ownRedis = await StartOwnRedisAsync();
        await using var cluster = await StartAsync(ownRedis.ConnectionString, o => o.HouseKeepingInterval = TimeSpan.FromMilliseconds(300));
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home"));
        }
        await using var admin = await ownRedis.ConnectAsync();

        // FLUSHALL keeps every connection up: only the missing liveness keys tell the servers.
        await admin.OnEveryMasterAsync("FLUSHALL").DefaultTimeout();

        await Eventually.TrueAsync(async () => (await cluster.Api(0).GetAllSubscriptionInfosAsync()).Count == 3, "presence was not rewritten");
        Assert.Equal(3, (await cluster.Api(1).GetChannelCountsAsync().DefaultTimeout())["home"]);
        var newcomer = await cluster.ConnectAsync(2, "home");
        Assert.DoesNotContain(newcomer.UserId, clients.Select(c => c.UserId));
    }

    [Fact]
    public async Task A_notify_costs_the_same_redis_commands_for_3_and_for_100_subscribers_on_three_servers()
    {
        await using var ownRedis = await StartOwnRedisAsync();
        // Housekeeping far apart so that only notifies run commands during the measurement.
        await using var cluster = await StartAsync(ownRedis.ConnectionString, o => o.HouseKeepingInterval = TimeSpan.FromMinutes(10));
        await using var admin = await ownRedis.ConnectAsync();

        // One subscriber per server against 100 over the same three servers: what a notify costs depends on the servers
        // with recipients (one inbox message each), never on how many recipients they have.
        var one = await MeasureAsync("solo", 3);
        var hundred = await MeasureAsync("crowd", 100);
        output.WriteLine($"3 subscribers: {Describe(one)}");
        output.WriteLine($"100 subscribers: {Describe(hundred)}");

        // The history age clock ticks (ZADD, ZREMRANGEBYSCORE) at most once a second whatever the load: whether a
        // tick falls inside a measurement is timing, not cost per subscriber.
        Assert.Equal(PerNotify(one), PerNotify(hundred));
        // One round trip: the single script call is the only command a notify sends.
        Assert.Equal(1.0, one["evalsha"]);

        static Dictionary<string, double> PerNotify(Dictionary<string, double> commands) =>
            commands.Where(c => c.Key is not ("zadd" or "zremrangebyscore")).ToDictionary();

        async Task<Dictionary<string, double>> MeasureAsync(string channel, int subscribers)
        {
            var clients = await Task.WhenAll(Enumerable.Range(0, subscribers).Select(i => cluster.ConnectAsync(i, channel)));
            // A client's own onJoin comes after all its groups are subscribed: no SUBSCRIBE can leak into the count.
            foreach (var client in clients)
            {
                await client.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == client.UserId);
            }
            const int notifies = 200;
            // Each server starts its backplane (and subscribes its own channels) on first use: do that first.
            for (var server = 0; server < 3; server++)
            {
                await cluster.Api(server).NotifyChannelAsync(channel, "cmd.warmup", 0).DefaultTimeout();
            }
            await admin.OnEveryMasterAsync("CONFIG", "RESETSTAT").DefaultTimeout();
            for (var i = 1; i <= notifies; i++)
            {
                await cluster.Api(i).NotifyChannelAsync(channel, "cmd.count", i).DefaultTimeout();
            }
            var stats = string.Join("\n", (await admin.OnEveryMasterAsync("INFO", "commandstats").DefaultTimeout()).Select(r => r.ToString()));
            foreach (var client in clients)
            {
                await client.WaitForAsync(e => e.Selector == "cmd.count" && e.Json == notifies.ToString());
            }
            return ParseCommandStats(stats)
                .Where(c => c.Key is not ("ping" or "config|resetstat" or "info"))
                .ToDictionary(c => c.Key, c => (double)c.Value / notifies);
        }
    }

    [Fact]
    public async Task A_groups_last_local_member_leaving_while_another_joins_keeps_the_server_on_the_route()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var leaver = await cluster.ConnectAsync(1, "lobby");
        var joiner = await cluster.ConnectAsync(1, "lobby");
        for (var round = 0; round < 30; round++)
        {
            var room = $"room{round}";
            await cluster.Api(1).SubscribeToChannelsAsync(leaver.Id, [room]).DefaultTimeout();
            // The route's removal (last member out) races its addition (first member in) on the same server.
            await Task.WhenAll(
                cluster.Api(1).UnsubscribeFromChannelsAsync(leaver.Id, [room]),
                cluster.Api(1).SubscribeToChannelsAsync(joiner.Id, [room])).DefaultTimeout();

            await cluster.Api(0).NotifyChannelAsync(room, "cmd.round", round).DefaultTimeout();
            await joiner.WaitForAsync(e => e.Selector == "cmd.round" && e.Channel == room);
        }
        var leaverRounds = (await leaver.BarrierAsync(cluster.Api(2))).Count(e => e.Selector == "cmd.round");
        Assert.Equal(0, leaverRounds);
    }

    [Fact]
    public async Task Events_in_flight_while_a_member_leaves_reach_the_others_all_and_the_leaver_a_prefix()
    {
        await using var cluster = await StartAsync(SharedConnectionString);
        var stayer = await cluster.ConnectAsync(2, "busy");
        var leaver = await cluster.ConnectAsync(2, "busy");
        const int Notifies = 300;
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; i < Notifies; i++)
            {
                await cluster.Api(i).NotifyChannelAsync("busy", "cmd.n", i);
            }
        });
        await leaver.WaitForAsync(e => e.Selector == "cmd.n" && e.Json == "50");
        await cluster.Api(0).UnsubscribeFromChannelsAsync(leaver.Id, ["busy"]).DefaultTimeout();
        await publisher.DefaultTimeout();

        var stayed = (await stayer.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.n").Select(e => int.Parse(e.Json)).ToList();
        Assert.Equal(Enumerable.Range(0, Notifies), stayed);
        var left = (await leaver.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.n").Select(e => int.Parse(e.Json)).ToList();
        Assert.Equal(Enumerable.Range(0, left.Count), left);
        Assert.InRange(left.Count, 51, Notifies - 1);
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_closed_and_does_not_hold_up_the_others()
    {
        await using var cluster = await StartAsync(SharedConnectionString, backplane: o => o.MaxPendingBytesPerConnection = 512 * 1024);
        using var slowCloses = ClusterMetrics.Of<long>(cluster, "serverevents.slow_client.closes");
        var fast = new[] { await cluster.ConnectAsync(0, "home"), await cluster.ConnectAsync(0, "home") };
        using var stuck = new ClientWebSocket();
        await stuck.ConnectAsync(new Uri(cluster.HubUrl(0, "channels=home").ToString().Replace("http", "ws", StringComparison.Ordinal)), CancellationToken.None).DefaultTimeout();
        await stuck.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
        // From here on the stuck client never reads: its socket buffers fill and writes to it pile up.
        await Eventually.TrueAsync(async () => (await cluster.Api(1).GetChannelCountsAsync())["home"] == 3, "the stuck client did not subscribe");

        const int messages = 400;
        var payload = new string('x', 32 * 1024);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= messages; i++)
        {
            await cluster.Api(1).NotifyChannelJsonAsync("home", "cmd.big", $"{{\"n\":{i},\"pad\":\"{payload}\"}}").DefaultTimeout();
            if (i % 10 == 0)
            {
                // A reader that keeps up stays well inside the limit; the stuck one falls further behind each batch.
                foreach (var client in fast)
                {
                    var n = i;
                    await client.WaitForAsync(e => e.Selector == "cmd.big" && e.Json.StartsWith($"{{\"n\":{n},", StringComparison.Ordinal));
                }
            }
        }
        foreach (var client in fast)
        {
            await client.WaitForAsync(e => e.Selector == "cmd.big" && e.Json.StartsWith($"{{\"n\":{messages},", StringComparison.Ordinal));
            Assert.Equal(messages, client.Events.Count(e => e.Selector == "cmd.big"));
        }
        output.WriteLine($"{messages} messages of 32 KB reached both reading clients in {clock.ElapsedMilliseconds} ms while one client read nothing.");

        // The stuck client was closed and left presence (with a leave event to the others).
        await Eventually.TrueAsync(async () => (await cluster.Api(2).GetChannelCountsAsync())["home"] == 2, "the stuck client is still subscribed");
        await fast[0].WaitForAsync(e => e.Selector == "cmd.onLeave");
        // Once, though writes kept coming for it until it was gone.
        Assert.Equal(1, slowCloses.Servers[0].Sum("serverevents.transport", "hub"));
        Assert.Equal(0, slowCloses.Sum() - slowCloses.Servers[0].Sum());
    }

    [Fact]
    public async Task A_client_thousands_of_small_events_behind_is_not_taken_for_one_that_stopped_reading()
    {
        // Small socket buffers on both ends (the server's accepted sockets inherit the listener's), so that what the
        // client does not read piles up in the server's queue for it rather than in the kernel.
        await using var cluster = await TestCluster.StartAsync(3, services =>
        {
            services.AddServerEvents().AddRedis(SharedConnectionString, o => o.Prefix = _prefix);
            services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o => o.CreateBoundListenSocket = endpoint =>
            {
                var listener = Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                listener.SendBufferSize = 16 * 1024;
                return listener;
            });
        }, app => app.MapServerEvents("/hub"));
        using var slowCloses = ClusterMetrics.Of<long>(cluster, "serverevents.slow_client.closes");
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var paused = new ClientWebSocket();
        await paused.ConnectAsync(new Uri(cluster.HubUrl(0, "channels=home").ToString().Replace("http", "ws", StringComparison.Ordinal)), new HttpMessageInvoker(handler), CancellationToken.None).DefaultTimeout();
        await paused.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
        var buffer = new byte[64 * 1024];
        var pending = new Queue<string>();
        var partial = new StringBuilder();
        // Subscribed once its onConnect has come (ServiceStack's contract).
        while ((await NextEventAsync()).Selector != "cmd.onConnect")
        {
        }
        // It keeps pinging, as a client does, so that a slow run is not closed as a silent connection.
        using var stopPinging = new CancellationTokenSource();
        var pinging = Task.Run(async () =>
        {
            while (!stopPinging.IsCancellationRequested)
            {
                try
                {
                    await paused.SendAsync(Encoding.UTF8.GetBytes("{\"type\":6}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None);
                }
                catch (WebSocketException)
                {
                    // Closed: the reading side reports why.
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(5), stopPinging.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });

        try
        {
            // About 360 bytes each on the wire: 2,000 of them are 0.7 MB, inside the default budget of 1 MiB, and more than
            // a thousand writes beyond what the socket buffers and SignalR's pipe (64 KB) hold. The client reads nothing meanwhile.
            const int messages = 2000;
            var pad = new string('x', 200);
            for (var i = 1; i <= messages; i += 50)
            {
                await Task.WhenAll(Enumerable.Range(i, 50).Select(n => cluster.Api(1).NotifyChannelJsonAsync("home", "cmd.n", $"{{\"n\":{n},\"pad\":\"{pad}\"}}"))).DefaultTimeout();
            }

            // Then it reads: everything arrives, in order, and nothing was closed.
            var received = new List<int>();
            try
            {
                while (received.Count < messages)
                {
                    if (await NextEventAsync() is ("cmd.n", var n))
                    {
                        received.Add(n);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or InvalidOperationException)
            {
                var missing = Enumerable.Range(1, messages).Except(received).ToList();
                Assert.Fail($"{ex.GetType().Name} after {received.Count} of {messages} events, the last {received.LastOrDefault()}; missing {missing.Count}, first {string.Join(",", missing.Take(10))}. {FailureLog.Recent(10)}");
            }
            Assert.Equal(Enumerable.Range(1, messages), received);
            Assert.Equal(0, slowCloses.Sum());
            Assert.Equal(1, (await cluster.Api(2).GetChannelCountsAsync().DefaultTimeout())["home"]);
        }
        finally
        {
            await stopPinging.CancelAsync();
            await pinging.DefaultTimeout();
        }

        // The selector of the next Server Events envelope and, for cmd.n, its n, reading frames as they come; 30 s at most.
        async Task<(string Selector, int N)> NextEventAsync()
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (true)
            {
                while (pending.TryDequeue(out var record))
                {
                    using var invocation = System.Text.Json.JsonDocument.Parse(record);
                    if (invocation.RootElement.TryGetProperty("arguments", out var arguments) && arguments[0].TryGetProperty("selector", out var selector))
                    {
                        if (selector.GetString() != "cmd.n")
                        {
                            return (selector.GetString()!, 0);
                        }
                        using var json = System.Text.Json.JsonDocument.Parse(arguments[0].GetProperty("json").GetString()!);
                        return ("cmd.n", json.RootElement.GetProperty("n").GetInt32());
                    }
                }
                var result = await paused.ReceiveAsync(buffer, deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"closed by the server: {paused.CloseStatus} {paused.CloseStatusDescription}");
                }
                partial.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
                var records = partial.ToString().Split('\u001e');
                partial.Clear().Append(records[^1]);
                foreach (var record in records[..^1])
                {
                    pending.Enqueue(record);
                }
            }
        }
    }

    [Fact]
    public async Task An_event_over_the_budget_still_reaches_clients_that_read_with_the_events_of_its_batch()
    {
        await using var cluster = await StartAsync(SharedConnectionString, backplane: o => o.MaxPendingBytesPerConnection = 256 * 1024);
        using var slowCloses = ClusterMetrics.Of<long>(cluster, "serverevents.slow_client.closes");
        var readers = new[] { await cluster.ConnectAsync(0, "home"), await cluster.ConnectAsync(0, "home") };

        // Each round: an event larger than the budget and small ones published with it, so that they often travel in one
        // inbox batch. What a batch queues before its drain starts does not count; the large one goes when nothing else waits.
        var huge = new string('y', 300 * 1024);
        for (var round = 1; round <= 5; round++)
        {
            var r = round;
            await Task.WhenAll(
                cluster.Api(1).NotifyChannelJsonAsync("home", "cmd.huge", $"{{\"round\":{r},\"pad\":\"{huge}\"}}"),
                cluster.Api(1).NotifyChannelAsync("home", "cmd.after", r),
                cluster.Api(1).NotifyChannelAsync("home", "cmd.after", r)).DefaultTimeout();
            foreach (var reader in readers)
            {
                var received = await reader.BarrierAsync(cluster.Api(1));
                Assert.Equal(r, received.Count(e => e.Selector == "cmd.huge"));
                Assert.Equal(2 * r, received.Count(e => e.Selector == "cmd.after"));
            }
        }
        Assert.Equal(0, slowCloses.Sum());
    }

    private static Dictionary<string, long> ParseCommandStats(string info)
    {
        // Lines look like: cmdstat_evalsha:calls=200,usec=1234,usec_per_call=6.17,...
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }
            var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
            var calls = line.Split(':', 2)[1].Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal))["calls=".Length..];
            // Summed over a cluster's masters.
            result[name] = result.GetValueOrDefault(name) + long.Parse(calls, System.Globalization.CultureInfo.InvariantCulture);
        }
        return result;
    }

    private static string Describe(Dictionary<string, double> perNotify) =>
        $"{perNotify.Values.Sum():0.##} commands per notify ({string.Join(", ", perNotify.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value:0.##}"))})";
}

[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisScaleOutTests(RedisFixture redis, ITestOutputHelper output) : RedisScaleOutSpecification(output)
{
    protected override string SharedConnectionString => redis.ConnectionString;

    protected override async Task<RedisDeployment> StartOwnRedisAsync() => await RedisServer.StartAsync();
}

[Collection(RedisClusterTestGroup.Name)]
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterScaleOutTests(RedisClusterFixture redis, ITestOutputHelper output) : RedisScaleOutSpecification(output)
{
    protected override string SharedConnectionString => redis.ConnectionString;

    protected override async Task<RedisDeployment> StartOwnRedisAsync() => await RedisCluster.StartAsync(masters: 3);
}

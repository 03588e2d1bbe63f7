using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>
/// Redis going away under three app servers: notifications buffered (and refused once the bound is reached),
/// what each server's clients missed back-filled from the shared history, and the health check saying so. Run on one
/// redis-server and on a Redis Cluster.
/// </summary>
public abstract class RedisOutageSpecification(ITestOutputHelper output)
{
    private readonly string _prefix = "o" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>A Redis of the test's own, started with <paramref name="args"/> on every node.</summary>
    protected abstract Task<RedisDeployment> StartOwnRedisAsync(params string[] args);

    /// <summary>A key in the slot of every key of this test's servers (the event path's master, on a cluster).</summary>
    private string SlotKey => "{" + _prefix + "}";

    private Task<TestCluster> StartAsync(string connectionString, Action<RedisBackplaneOptions>? backplane = null) =>
        TestCluster.StartAsync(3, services =>
        {
            services.AddServerEvents().AddRedis(connectionString, o =>
            {
                o.Prefix = _prefix;
                backplane?.Invoke(o);
            });
            services.AddHealthChecks().AddServerEvents();
        }, app =>
        {
            app.MapServerEvents("/hub");
            app.MapHealthChecks("/health");
        });

    [Fact]
    public async Task Events_published_while_pubsub_is_cut_are_back_filled_once_in_order_on_every_server()
    {
        await using var ownRedis = await StartOwnRedisAsync();
        await using var cluster = await StartAsync(ownRedis.ConnectionString);
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home"));
        }
        await using var admin = await ownRedis.ConnectAsync();
        using var replayed = ClusterMetrics.Of<long>(cluster, "serverevents.replayed_events");
        using var resets = ClusterMetrics.Of<long>(cluster, "serverevents.resets");

        // Publishers on all three servers keep going while every pub/sub connection is killed twice; the command
        // connections stay up, so what is published meanwhile is in the history but reaches no server live.
        const int PerServer = 150;
        var publishers = Enumerable.Range(0, 3).Select(server => Task.Run(async () =>
        {
            for (var i = 0; i < PerServer; i++)
            {
                await cluster.Api(server).NotifyChannelAsync("home", "cmd.seq", $"{server}:{i}");
                await Task.Delay(4);
            }
        })).ToList();
        for (var cut = 0; cut < 2; cut++)
        {
            await Task.Delay(250);
            // Redis counts a connection as pub/sub only once it has subscribed again: wait for all three.
            await Eventually.TrueAsync(() => Task.FromResult(Enumerable.Range(0, 3).All(s => cluster[s].Services.GetRequiredService<RedisBackplane>().InboxLive)), "a server did not read its inbox again");
            var killed = (await admin.OnEveryMasterAsync("CLIENT", "KILL", "TYPE", "pubsub")).Sum(r => (long)r);
            output.WriteLine($"cut {cut}: killed {killed} pub/sub connections");
            Assert.True(killed >= 3, $"only {killed} pub/sub connections killed");
        }
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
        await cluster.InboxesReadAsync();

        foreach (var client in clients)
        {
            // Through the channel, whose history back-fills it too: an event to one connection alone is in no history, and
            // is lost if its server's inbox goes unread once more (StackExchange.Redis may reconnect late under load).
            IReadOnlyList<ReceivedEvent> received;
            try
            {
                received = await client.BarrierAsync(marker => cluster.Api(0).NotifyChannelJsonAsync("home", "cmd.barrier", JsonSerializer.Serialize(marker)));
            }
            catch (TimeoutException)
            {
                output.WriteLine(string.Join("\n", Enumerable.Range(0, 3).Select(i => cluster[i].Services.GetRequiredService<RedisBackplane>())
                    .Select((b, i) => $"server {i}: inbox live {b.InboxLive}, awaiting back-fill {b.AwaitingBackfill}, command connection {b.IsConnected}")));
                output.WriteLine(string.Join("\n", FailureLog.Snapshot.TakeLast(20)));
                throw;
            }
            var events = received.Where(e => e.Selector is "cmd.seq" or "cmd.onReset").ToList();
            Assert.DoesNotContain(events, e => e.Selector == "cmd.onReset");
            Assert.Equal(events.Select(e => e.EventId).Order(), events.Select(e => e.EventId));
            for (var server = 0; server < 3; server++)
            {
                var prefix = $"\"{server}:";
                Assert.Equal(Enumerable.Range(0, PerServer).Select(i => $"\"{server}:{i}\""), events.Where(e => e.Json.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Json));
            }
        }
        // What the cuts made the servers miss came from history: counted as replayed, with no reset.
        Assert.True(replayed.Sum() > 0, "no event was counted as replayed after the cuts");
        Assert.Equal(0, resets.Sum());
    }

    [Fact]
    public async Task A_replay_that_overtakes_a_lagging_pubsub_stream_is_not_delivered_twice()
    {
        // Server 2's pub/sub loop writes every event to 40 local connections while two publishers go flat out, so
        // it falls behind: a resume's history read (command connection) returns events its live stream delivers later.
        await using var ownRedis = await StartOwnRedisAsync();
        await using var cluster = await TestCluster.StartAsync(3,
            services => services.AddServerEvents(o => o.HistoryPerTarget = 100_000).AddRedis(ownRedis.ConnectionString, o => o.Prefix = _prefix),
            app => app.MapServerEvents("/hub"));
        var load = new List<TestClient>();
        for (var i = 0; i < 40; i++)
        {
            load.Add(await cluster.ConnectAsync(2, "home", awaitJoins: false));
        }
        using var stop = new CancellationTokenSource();
        var publishers = Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await cluster.Api(p).NotifyChannelAsync("home", "cmd.seq", i, CancellationToken.None);
            }
        })).ToList();
        await load[0].WaitForAsync("cmd.seq");
        await Task.Delay(300);
        var problems = new List<string>();
        for (var round = 0; round < 10; round++)
        {
            var last = load[0].Events.Last(e => e.Selector == "cmd.seq").EventId;
            var resumed = await cluster.ConnectAsync(2, "home", awaitJoins: false, lastEventId: last);
            await Task.Delay(150);
            var ids = resumed.Events.Where(e => e.Selector == "cmd.seq").Select(e => e.EventId).ToList();
            problems.AddRange(ids.Zip(ids.Skip(1)).Where(p => p.Second <= p.First).Select(p => $"round {round}: {p.Second} after {p.First}"));
            await resumed.DisposeAsync();
        }
        await stop.CancelAsync();
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(problems.Count == 0, $"{problems.Count} events out of order or repeated: " + string.Join("; ", problems.Take(10)));
    }

    [Fact]
    public async Task Notifies_Redis_answers_BUSY_to_are_buffered_and_go_out_once_it_is_free()
    {
        // A long script makes Redis answer BUSY to everyone else after 50 ms: the publish did not run, so it waits.
        await using var ownRedis = await StartOwnRedisAsync("--busy-reply-threshold", "50");
        await using var cluster = await StartAsync(ownRedis.ConnectionString);
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home"));
        }
        await using var blocking = await ownRedis.ConnectAsync(",syncTimeout=30000,asyncTimeout=30000");
        await using var admin = await ownRedis.ConnectAsync();
        var master = admin.MasterOf(SlotKey);
        var script = blocking.Multiplexer.GetDatabase().ScriptEvaluateAsync("local i = 0 while true do i = i + 1 end", [SlotKey]);
        await Task.Delay(200);

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.busy", 1).DefaultTimeout();
        await cluster.Api(1).NotifyChannelAsync("home", "cmd.busy", 2).DefaultTimeout();
        Assert.Equal(2, cluster[1].Services.GetRequiredService<RedisBackplane>().Buffer.Count);
        await master.ExecuteAsync("SCRIPT", "KILL");
        await Assert.ThrowsAsync<RedisServerException>(() => script.WaitAsync(TimeSpan.FromSeconds(10)));

        foreach (var client in clients)
        {
            await client.WaitForAsync(e => e.Selector == "cmd.busy" && e.Json == "2", TimeSpan.FromSeconds(15));
            var events = await client.BarrierAsync(cluster.Api(0));
            Assert.Equal(["1", "2"], events.Where(e => e.Selector == "cmd.busy").Select(e => e.Json));
        }
    }

    [Fact]
    public async Task Notifies_made_while_Redis_is_down_are_buffered_up_to_the_bound_then_refused_and_health_says_so()
    {
        await using var ownRedis = await StartOwnRedisAsync("--appendonly", "yes", "--appendfsync", "always", "--dir", Directory.CreateTempSubdirectory("redis-aof").FullName);
        await using var cluster = await StartAsync(ownRedis.ConnectionString, o => o.MaxBufferedNotifications = 3);
        var clients = new List<TestClient>();
        for (var server = 0; server < 3; server++)
        {
            clients.Add(await cluster.ConnectAsync(server, "home"));
        }
        using var http = new HttpClient();
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri(cluster[1].BaseUri, "/health")));
        using var buffered = ClusterMetrics.Of<int>(cluster, "serverevents.redis.buffered_notifies");
        using var refusedNotifies = ClusterMetrics.Of<long>(cluster, "serverevents.redis.refused_notifies");
        using var connected = ClusterMetrics.Of<int>(cluster, "serverevents.redis.connected");

        await ownRedis.KillAsync();
        var backplane = cluster[1].Services.GetRequiredService<RedisBackplane>();
        await Eventually.TrueAsync(() => Task.FromResult(!backplane.IsConnected), "server 1 did not notice Redis was gone");
        Assert.Equal("Degraded", await http.GetStringAsync(new Uri(cluster[1].BaseUri, "/health")));
        for (var i = 0; i < 3; i++)
        {
            await cluster.Api(1).NotifyChannelAsync("home", "cmd.buffered", i).DefaultTimeout();
        }
        var refused = await Assert.ThrowsAsync<RedisUnreachableException>(() => cluster.Api(1).NotifyChannelAsync("home", "cmd.refused", 3).DefaultTimeout());
        Assert.Contains("MaxBufferedNotifications", refused.Message, StringComparison.Ordinal);
        using (var unhealthy = await http.GetAsync(new Uri(cluster[1].BaseUri, "/health")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
            Assert.Equal("Unhealthy", await unhealthy.Content.ReadAsStringAsync());
        }
        // The same, as the metrics say it.
        buffered.RecordObservable();
        refusedNotifies.RecordObservable();
        connected.RecordObservable();
        Assert.Equal(3, buffered.Servers[1].Last());
        Assert.Equal(1, refusedNotifies.Servers[1].Last());
        Assert.Equal(0, connected.Servers[1].Last("serverevents.redis.connection", "command"));

        // Redis comes back with its data (append-only file): the buffered notifies go out in order, each once, and
        // no client needs a reset — what the servers missed is in the history.
        await ownRedis.RestartAsync();
        try
        {
            foreach (var client in clients)
            {
                await client.WaitForAsync(e => e.Selector == "cmd.buffered" && e.Json == "2", TimeSpan.FromSeconds(30));
            }
        }
        catch (TimeoutException)
        {
            output.WriteLine(string.Join("\n", FailureLog.Snapshot.TakeLast(20)));
            throw;
        }
        await cluster.Api(2).NotifyChannelAsync("home", "cmd.after", 0).DefaultTimeout();
        foreach (var client in clients)
        {
            var events = (await client.BarrierAsync(cluster.Api(0))).ToList();
            Assert.DoesNotContain(events, e => e.Selector is "cmd.onReset" or "cmd.refused");
            Assert.Equal(["0", "1", "2"], events.Where(e => e.Selector == "cmd.buffered").Select(e => e.Json));
            Assert.Single(events, e => e.Selector == "cmd.after");
        }
        await Eventually.TrueAsync(async () => await http.GetStringAsync(new Uri(cluster[1].BaseUri, "/health")) == "Healthy", "health did not return to Healthy");
        buffered.RecordObservable();
        connected.RecordObservable();
        Assert.Equal(0, buffered.Servers[1].Last());
        Assert.Equal(1, connected.Servers[1].Last("serverevents.redis.connection", "command"));
        Assert.Equal(1, connected.Servers[1].Last("serverevents.redis.connection", "pubsub"));
    }

    [Fact]
    public async Task A_client_result_call_waiting_for_another_servers_answer_fails_when_pubsub_is_lost()
    {
        // The answer would come on the caller's pub/sub connection: once that is gone, the call ends with why.
        await using var ownRedis = await StartOwnRedisAsync();
        await using var cluster = await StartAsync(ownRedis.ConnectionString);
        var client = await cluster.ConnectAsync(0, "home");
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connection.On("Hang", () =>
        {
            reached.TrySetResult();
            return new TaskCompletionSource<int>().Task;
        });
        var waiting = cluster[1].HubContext<ServerEventsHub>().Clients.Client(client.Id).InvokeAsync<int>("Hang", CancellationToken.None);
        await reached.Task.DefaultTimeout();
        await using var admin = await ownRedis.ConnectAsync();

        await admin.OnEveryMasterAsync("CLIENT", "KILL", "TYPE", "pubsub").DefaultTimeout();

        var error = await Assert.ThrowsAsync<IOException>(() => waiting.DefaultTimeout());
        Assert.Contains("inbox at Redis", error.Message);
        Assert.Contains(client.Id, error.Message);
    }
}

[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisOutageTests(ITestOutputHelper output) : RedisOutageSpecification(output)
{
    protected override async Task<RedisDeployment> StartOwnRedisAsync(params string[] args) => await RedisServer.StartAsync(args);

    /// <summary>
    /// redis-server stopped (SIGSTOP), its sockets open: a half-open Redis, which answers nothing. A short stall only
    /// delays; a long one fails the notify within the command timeout instead of hanging it; either way delivery is
    /// back once Redis is, and nothing arrives twice. (One server only: a stopped cluster master is failed over.)
    /// </summary>
    [Fact]
    public async Task A_Redis_that_answers_slowly_or_not_at_all_delays_or_fails_notifies_within_the_timeout()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await TestCluster.StartAsync(2,
            services => services.AddServerEvents().AddRedis(redis.ConnectionString + ",syncTimeout=2000,asyncTimeout=2000", o => o.Prefix = "slow"),
            app => app.MapServerEvents("/hub"));
        var client = await cluster.ConnectAsync(0, "home");

        Signal(redis, "STOP");
        var slow = cluster.Api(1).NotifyChannelAsync("home", "cmd.slow", 1);
        await Task.Delay(800);
        Signal(redis, "CONT");
        await slow.DefaultTimeout();
        await client.WaitForAsync(e => e.Selector == "cmd.slow");

        Signal(redis, "STOP");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stalled = cluster.Api(1).NotifyChannelAsync("home", "cmd.stalled", 2);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => stalled.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(error is RedisTimeoutException, $"after {clock.ElapsedMilliseconds} ms: {error}");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6));
        Signal(redis, "CONT");

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.after", 3).DefaultTimeout();
        var events = (await client.BarrierAsync(cluster.Api(0))).Where(e => e.Selector.StartsWith("cmd.", StringComparison.Ordinal) && e.Selector is not ("cmd.onConnect" or "cmd.onJoin")).ToList();
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.Single(events, e => e.Selector == "cmd.slow");
        Assert.Single(events, e => e.Selector == "cmd.after");
        // The stalled one was sent before the timeout: Redis ran it when it woke, or not — never twice.
        Assert.InRange(events.Count(e => e.Selector == "cmd.stalled"), 0, 1);
    }

    private static void Signal(RedisServer redis, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, redis.ProcessId!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}

[Trait("Category", "RedisCluster")]
public sealed class RedisClusterOutageTests(ITestOutputHelper output) : RedisOutageSpecification(output)
{
    protected override async Task<RedisDeployment> StartOwnRedisAsync(params string[] args) => await RedisCluster.StartAsync(masters: 3, extraArgs: args);
}

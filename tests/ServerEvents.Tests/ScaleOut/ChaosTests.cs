using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using ServerEvents.Redis;
using ServerEvents.Sse;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>
/// Three app servers on one redis-server (or a Redis Cluster of three masters), hub and SSE subscribers on all of them, publishers on all of them at a
/// steady rate; subscribers are dropped at random and come back to a random server with their last event id, and
/// Redis is killed and restarted once (losing its data, or from its append-only file). Afterwards every subscriber, checked on its own, has every
/// message exactly once, in id order — or, for a message it does not have, a reset whose window covers it.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int Servers = 3;
    private const int SubscribersPerServer = 4;
    private static readonly TimeSpan Publishing = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(15);

    /// <param name="redisKeepsItsData">
    /// False: Redis restarts empty, so every subscriber is reset for what was in flight at the kill. True: it restarts
    /// from its append-only file, and then no subscriber may need a reset at all.
    /// </param>
    /// <param name="onCluster">A Redis Cluster (every node killed and restarted) rather than one redis-server.</param>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Every_subscriber_has_every_message_once_or_an_explicit_reset_through_drops_and_a_Redis_restart(bool redisKeepsItsData, bool onCluster)
    {
        var clock = Stopwatch.StartNew();
        string[] persistence = redisKeepsItsData ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", Directory.CreateTempSubdirectory("redis-chaos").FullName] : [];
        await using RedisDeployment redis = onCluster ? await RedisCluster.StartAsync(masters: 3, extraArgs: persistence) : await RedisServer.StartAsync(persistence);
        var prefix = "c" + Guid.NewGuid().ToString("N")[..10];
        await using var cluster = await TestCluster.StartAsync(Servers,
            services => services.AddServerEvents().AddSseBridge().AddRedis(redis.ConnectionString, o => o.Prefix = prefix),
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });
        var subscribers = new List<ChaosSubscriber>();
        for (var i = 0; i < Servers * SubscribersPerServer; i++)
        {
            var subscriber = new ChaosSubscriber($"s{i}", sse: i % 3 == 2, cluster);
            await subscriber.ConnectAsync(i % Servers);
            subscribers.Add(subscriber);
        }

        var published = new PublishLog();
        using var stop = new CancellationTokenSource(Publishing);
        var publishers = Enumerable.Range(0, Servers).Select(server => Task.Run(() => PublishAsync(cluster, server, published, stop.Token))).ToList();
        var dropper = Task.Run(() => DropAtRandomAsync(subscribers, stop.Token));
        await Task.Delay(Publishing / 3);
        await redis.KillAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        await redis.RestartAsync();
        output.WriteLine($"Redis restarted at {clock.Elapsed.TotalSeconds:0.0} s");
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
        var drops = await dropper.WaitAsync(TimeSpan.FromSeconds(60));

        // Quiet now: every subscriber (connected again if needed) receives a last message, after everything else.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await cluster.Api(0).NotifyChannelAsync("home", "cmd.end", "end");
                return true;
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                return false;
            }
        }, "the final notify never went out");
        foreach (var subscriber in subscribers)
        {
            await subscriber.WaitForEndAsync(TimeSpan.FromSeconds(30));
        }

        var ids = IdsOfPublished(subscribers);
        var resets = 0;
        foreach (var subscriber in subscribers)
        {
            resets += Check(subscriber, published, ids);
        }
        output.WriteLine($"{published.Succeeded.Count} messages published ({published.Uncertain.Count} with an unknown outcome), " +
            $"{drops} random drops, {subscribers.Count} subscribers ({subscribers.Count(s => s.Sse)} SSE), {resets} resets received; " +
            $"{clock.Elapsed.TotalSeconds:0.0} s in all");
        Assert.True(published.Succeeded.Count > 500, $"only {published.Succeeded.Count} messages published");
        Assert.True(drops >= 5, $"only {drops} drops");
        if (redisKeepsItsData)
        {
            Assert.Equal(0, resets);
        }
        foreach (var subscriber in subscribers)
        {
            await subscriber.DisposeAsync();
        }
    }

    private static async Task PublishAsync(TestCluster cluster, int server, PublishLog log, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var message = $"{server}:{n}";
            try
            {
                await cluster.Api(server).NotifyChannelAsync("home", "cmd.seq", message, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
                log.Succeeded.Add((server, n, message));
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                // Lost with the connection while in flight: Redis may or may not have run it.
                log.Uncertain.Add(message);
            }
            await Task.Delay(PublishInterval, CancellationToken.None);
        }
    }

    private static async Task<int> DropAtRandomAsync(List<ChaosSubscriber> subscribers, CancellationToken stop)
    {
        var random = new Random(7);
        var drops = 0;
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(random.Next(100, 400), CancellationToken.None);
            var victim = subscribers[random.Next(subscribers.Count)];
            await victim.DropAsync();
            drops++;
            // Back to any server, with the last id it saw, retrying while Redis is down.
            await victim.ReconnectAsync(random.Next(Servers));
        }
        return drops;
    }

    /// <summary>Each published message's event id, as its recipients saw it (all see the same one).</summary>
    private static Dictionary<string, long> IdsOfPublished(List<ChaosSubscriber> subscribers)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in subscribers.SelectMany(s => s.Events).Where(e => e.Selector == "cmd.seq"))
        {
            if (ids.TryGetValue(e.Message, out var id))
            {
                Assert.Equal(id, e.EventId);
            }
            ids[e.Message] = e.EventId;
        }
        return ids;
    }

    /// <summary>Checks one subscriber; returns the number of resets it received.</summary>
    private static int Check(ChaosSubscriber subscriber, PublishLog published, Dictionary<string, long> ids)
    {
        var events = subscriber.Events.Where(e => e.Selector is "cmd.seq" or "cmd.onReset").ToList();
        var name = subscriber.Name;
        // Id order across every connection it had, replays included.
        for (var i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].EventId > events[i - 1].EventId,
                $"{name}: {events[i - 1].Selector} {events[i - 1].EventId} then {events[i].Selector} {events[i].EventId}");
        }
        var seen = events.Where(e => e.Selector == "cmd.seq").GroupBy(e => e.Message).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Assert.All(seen, pair => Assert.True(pair.Value == 1, $"{name} got {pair.Key} {pair.Value} times"));
        var resets = events.Where(e => e.Selector == "cmd.onReset").Select(e => (After: long.Parse(e.Meta["lastEventId"], CultureInfo.InvariantCulture), Through: e.EventId)).ToList();
        foreach (var (server, n, message) in published.Succeeded)
        {
            if (seen.ContainsKey(message))
            {
                continue;
            }
            // Not received: only a reset whose window holds it excuses that. Nobody received it means its id is only
            // known to lie between its publisher's previous and next messages.
            var (low, high) = ids.TryGetValue(message, out var id) ? (id - 1, id + 1) : Bounds(published, ids, server, n);
            Assert.True(resets.Any(r => r.After <= low && high - 1 <= r.Through),
                $"{name} lost {message} (id in ({low}, {high})) without a reset covering it; resets: {string.Join(", ", resets)}");
        }
        return resets.Count;
    }

    private static (long Low, long High) Bounds(PublishLog published, Dictionary<string, long> ids, int server, int n)
    {
        var mine = published.Succeeded.Where(p => p.Server == server).ToList();
        var low = mine.Where(p => p.N < n && ids.ContainsKey(p.Message)).Select(p => ids[p.Message]).DefaultIfEmpty(0).Max();
        var high = mine.Where(p => p.N > n && ids.ContainsKey(p.Message)).Select(p => ids[p.Message]).DefaultIfEmpty(long.MaxValue).Min();
        return (low, high);
    }

    private sealed class PublishLog
    {
        public System.Collections.Concurrent.ConcurrentBag<(int Server, int N, string Message)> Succeeded { get; } = [];

        public System.Collections.Concurrent.ConcurrentBag<string> Uncertain { get; } = [];
    }
}

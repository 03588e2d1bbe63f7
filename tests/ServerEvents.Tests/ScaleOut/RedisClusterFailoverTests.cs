using System.Collections.Concurrent;
using System.Diagnostics;
using ServerEvents.Redis;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>
/// A Redis Cluster of three masters with a replica each; the master that holds the event path's slot is killed (kill -9)
/// mid-stream, and its replica takes over. Delivery must continue, and whatever a client missed must come back by
/// back-fill or be announced by a reset: never lost without a word, never twice, never out of order.
/// </summary>
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_master_killed_mid_stream_fails_over_and_every_client_gets_every_event_once_or_a_reset()
    {
        await using var redis = await RedisCluster.StartAsync(masters: 3, replicasPerMaster: 1);
        const string Prefix = "failover";
        await using var cluster = await TestCluster.StartAsync(3,
            // History long enough for the whole outage: what a server missed comes back by back-fill, not as a reset.
            services => services.AddServerEvents(o => o.HistoryPerTarget = 100_000).AddRedis(redis.ConnectionString, o => o.Prefix = Prefix),
            app => app.MapServerEvents("/hub"));
        var clients = new List<TestClient>();
        for (var i = 0; i < 6; i++)
        {
            clients.Add(await cluster.ConnectAsync(i, "home"));
        }
        // Each accepted notify with when it was accepted, on one clock.
        var clock = Stopwatch.StartNew();
        var accepted = new ConcurrentDictionary<string, TimeSpan>();
        var failed = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var publishers = Enumerable.Range(0, 3).Select(server => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var text = $"{server}:{i}";
                try
                {
                    await cluster.Api(server).NotifyChannelAsync("home", "cmd.seq", text, CancellationToken.None);
                    accepted[text] = clock.Elapsed;
                }
                catch (Exception ex)
                {
                    // In flight when the master died: it may or may not have run.
                    failed[text] = ex.GetType().Name + ": " + ex.Message;
                }
                await Task.Delay(5);
            }
        })).ToList();
        await Task.Delay(500);

        var master = await redis.MasterOfAsync("{" + Prefix + "}");
        var killedAt = Stopwatch.StartNew();
        var acceptedBefore = accepted.Count;
        await master.KillAsync();
        var kill = clock.Elapsed;
        output.WriteLine($"killed the master on port {master.Port} after {acceptedBefore} accepted notifies");

        // Delivery resumes: a notify made now reaches a client on every server.
        var probe = $"after-kill";
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await cluster.Api(0).NotifyChannelAsync("home", "cmd.probe", probe);
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                return false;
            }
            return true;
        }, "notifies never worked again after the fail-over");
        foreach (var client in clients.Take(3))
        {
            await client.WaitForAsync(e => e.Selector == "cmd.probe", TimeSpan.FromSeconds(30));
        }
        output.WriteLine($"delivery back on every server {killedAt.ElapsedMilliseconds} ms after the kill");
        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));
        // The barriers below go to one connection each, which no history keeps: sent only once every inbox is read.
        await cluster.InboxesReadAsync();
        output.WriteLine($"{accepted.Count} notifies accepted, {failed.Count} failed (maybe run): {string.Join("; ", failed.Values.Distinct().Take(3))}");

        var resets = 0;
        foreach (var client in clients)
        {
            var events = (await client.BarrierAsync(cluster.Api(0))).Where(e => e.Selector is "cmd.seq" or "cmd.onReset").ToList();
            Assert.Equal(events.Select(e => e.EventId).Order(), events.Select(e => e.EventId));
            Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
            var seen = events.Where(e => e.Selector == "cmd.seq").Select(e => e.Json.Trim('"')).ToList();
            Assert.Equal(seen.Count, seen.Distinct().Count());
            var missing = accepted.Keys.Except(seen).ToList();
            var reset = events.Any(e => e.Selector == "cmd.onReset");
            resets += reset ? 1 : 0;
            // Redis replicates asynchronously: a notify the dying master ran in its last moments may never have reached
            // the replica nor every subscriber (documented in docs/redis.md). Only those may be missing without a reset.
            var inFlightAtKill = missing.Where(m => accepted[m] > kill - TimeSpan.FromMilliseconds(250)).ToList();
            output.WriteLine($"client {client.Id}: {seen.Count} events, {missing.Count} missing ({inFlightAtKill.Count} accepted in the 250 ms before the kill), reset: {reset}");
            Assert.True(missing.Count == inFlightAtKill.Count || reset,
                $"client {client.Id}: {missing.Count - inFlightAtKill.Count} notifies accepted before or after the fail-over never arrived and no reset said so: {string.Join(", ", missing.Except(inFlightAtKill).Take(10))}");
        }
        output.WriteLine($"{resets} of {clients.Count} clients were told to reset");
    }
}

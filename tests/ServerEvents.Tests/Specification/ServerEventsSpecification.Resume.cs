using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

/// <summary>Resuming by last event id: what was missed, in order, once — on any server — or an explicit reset.</summary>
public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task A_client_resuming_on_another_server_gets_exactly_what_it_missed_in_order_then_live_events()
    {
        await using var cluster = await StartAsync();
        var last = await SeeOneEventThenLeaveAsync(cluster, -1);

        for (var i = 0; i < 100; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }
        await cluster.Api(1).NotifyChannelAsync("elsewhere", "cmd.seq", 1000).DefaultTimeout();
        var resumed = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: last);
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", 100).DefaultTimeout();

        var events = (await resumed.BarrierAsync(cluster.Api(0))).ToList();
        Assert.Equal("cmd.onConnect", events[0].Selector);
        Assert.Equal(Enumerable.Range(0, 101).Select(i => i.ToString()), events.Where(e => e.Selector == "cmd.seq").Select(e => e.Json));
        var ids = events.Skip(1).Select(e => e.EventId).ToList();
        Assert.All(ids.Zip(ids.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second} after {pair.First}"));
        Assert.DoesNotContain(events, e => e.Selector == ResetSelector);
    }

    [Fact]
    public async Task Resuming_while_events_keep_coming_leaves_no_gap_and_no_duplicate_at_the_seam()
    {
        // Some 20,000 notifies/s at most (a bare loop on memory reaches 300,000/s, more than any history should
        // keep for the half second a reconnect takes here); the history covers what the reconnect spans.
        await using var cluster = await StartAsync(o => o.HistoryPerTarget = 100_000);
        var first = await cluster.ConnectAsync(0, "home");
        using var stop = new CancellationTokenSource();
        var published = 0;
        var publisher = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 200; i++)
            {
                await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i);
                published = i + 1;
                if (i % 20 == 19)
                {
                    await Task.Delay(1);
                }
            }
        });
        await first.WaitForAsync(e => e.Selector == "cmd.seq" && e.Json == "50").DefaultTimeout();
        await first.DisposeAsync();
        var seenFirst = first.Events.Where(e => e.Selector == "cmd.seq").ToList();
        var resumed = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: seenFirst[^1].EventId);
        var beyond = Volatile.Read(ref published) + 20;
        await resumed.WaitForAsync(e => e.Selector == "cmd.seq" && int.Parse(e.Json) >= beyond).DefaultTimeout();
        await stop.CancelAsync();
        await publisher.DefaultTimeout();

        var after = await resumed.BarrierAsync(cluster.Api(0));
        Assert.DoesNotContain(after, e => e.Selector == ResetSelector);
        var seen = seenFirst.Concat(after.Where(e => e.Selector == "cmd.seq")).Select(e => int.Parse(e.Json)).ToList();
        Assert.Equal(Enumerable.Range(0, published), seen);
    }

    [Fact]
    public async Task A_client_whose_last_event_is_older_than_the_history_gets_an_explicit_reset()
    {
        await using var cluster = await StartAsync(o => o.HistoryPerTarget = 5);
        var last = await SeeOneEventThenLeaveAsync(cluster, -1);
        for (var i = 0; i < 400; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }

        var resumed = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: last);
        var reset = await resumed.WaitForAsync(ResetSelector);
        Assert.Equal(last.ToString(), reset.Meta["lastEventId"]);
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", 400).DefaultTimeout();
        var after = (await resumed.BarrierAsync(cluster.Api(0))).SkipWhile(e => e.Selector != ResetSelector).ToList();
        // The reset stands where the lost events were; what history still keeps follows it, in order, then live ones.
        var kept = after.Skip(1).Where(e => e.Selector == "cmd.seq").ToList();
        var firstKept = int.Parse(kept[0].Json);
        Assert.InRange(firstKept, 1, 396);
        Assert.Equal(Enumerable.Range(firstKept, 401 - firstKept), kept.Select(e => int.Parse(e.Json)));
        Assert.True(reset.EventId > last && reset.EventId < kept[0].EventId, $"reset id {reset.EventId} not between {last} and {kept[0].EventId}");

        // An id from the future (a server that restarted, or a made-up one) cannot be resumed either.
        var stranger = await cluster.ConnectAsync(0, "home", lastEventId: long.MaxValue / 2);
        await stranger.WaitForAsync(ResetSelector);
    }

    [Fact]
    public async Task Events_older_than_the_history_age_cap_are_not_replayed_and_the_client_is_told()
    {
        await using var cluster = await StartAsync(o => o.HistoryMaxAge = TimeSpan.FromSeconds(1));
        var last = await SeeOneEventThenLeaveAsync(cluster, "seen");
        await cluster.Api(1).NotifyChannelAsync("home", "cmd.seq", "aged").DefaultTimeout();
        await Task.Delay(TimeSpan.FromSeconds(1.6));

        // Nothing was published since: the history of every target has aged away.
        var idle = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: last);
        var reset = await idle.WaitForAsync(ResetSelector);
        Assert.Equal(last.ToString(), reset.Meta["lastEventId"]);
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", "young").DefaultTimeout();
        // The next write trimmed what had aged; the young event is still kept (for the cap, so resume at once) and
        // follows the reset.
        var busy = await cluster.ConnectAsync(0, "home", lastEventId: last);
        var seqs = (await idle.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.seq").Select(e => e.Json).ToList();
        Assert.Equal(["\"young\""], seqs);
        var events = (await busy.BarrierAsync(cluster.Api(0))).Where(e => e.Selector is "cmd.seq" or ResetSelector).Select(e => e.Selector + " " + e.Json).ToList();
        Assert.Equal(2, events.Count);
        Assert.StartsWith(ResetSelector, events[0], StringComparison.Ordinal);
        Assert.Equal("cmd.seq \"young\"", events[1]);
    }

    [Fact]
    public async Task A_notify_all_made_while_a_client_resumes_neither_precedes_its_onConnect_nor_cuts_its_replay()
    {
        // The OnConnect hook runs after the transport connected and before the subscription joins anything.
        TestCluster? started = null;
        var notifyOnConnect = 0;
        await using var cluster = await StartAsync(o => o.Events.OnConnect = async _ =>
        {
            if (Interlocked.Exchange(ref notifyOnConnect, 0) == 1)
            {
                await started!.Api(0).NotifyAllAsync("cmd.everyone", "meanwhile");
            }
        });
        started = cluster;
        var last = await SeeOneEventThenLeaveAsync(cluster, -1);
        for (var i = 0; i < 10; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }

        Volatile.Write(ref notifyOnConnect, 1);
        var resumed = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: last);
        var events = await resumed.BarrierAsync(cluster.Api(0));
        Assert.Equal("cmd.onConnect", events[0].Selector);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), events.Where(e => e.Selector == "cmd.seq").Select(e => e.Json));
        Assert.Single(events, e => e.Selector == "cmd.everyone");
        var ids = events.Skip(1).Select(e => e.EventId).ToList();
        Assert.Equal(ids.Order(), ids);
    }

    [Fact]
    public async Task A_replay_longer_than_the_pending_writes_limit_is_delivered_whole()
    {
        // 1,500 missed events: more than a connection may have waiting (1,000 by default) once live writes resume.
        await using var cluster = await StartAsync(o => o.HistoryPerTarget = 2000);
        var last = await SeeOneEventThenLeaveAsync(cluster, -1);
        var payload = new string('x', 2000);
        for (var i = 0; i < 1500; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", $"{i}:{payload}").DefaultTimeout();
        }

        // Live events keep coming while the replay is still being written (the first ones may still be replayed).
        var live = Task.Run(async () =>
        {
            for (var i = 1500; i < 1600; i++)
            {
                await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", $"{i}:{payload}", CancellationToken.None);
            }
        });
        var resumed = await cluster.ConnectAsync(cluster.Count - 1, "home", lastEventId: last, awaitJoins: false);
        await live.DefaultTimeout();
        var seqs = (await resumed.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.seq").Select(e => int.Parse(e.Json[1..e.Json.IndexOf(':', StringComparison.Ordinal)])).ToList();
        Assert.Equal(Enumerable.Range(0, 1600), seqs);
        Assert.False(resumed.Closed.IsCompleted);
    }

    [Fact]
    public async Task A_malformed_last_event_id_is_refused_with_the_reason()
    {
        await using var cluster = await StartAsync();
        var refusal = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&lastEventId=12x"));
        Assert.Contains("lastEventId must be an event id", refusal);
    }

    private const string ResetSelector = "cmd.onReset";

    /// <summary>A client on server 0 receives one <c>cmd.seq</c> and goes away; returns the id it would resume after.</summary>
    private static async Task<long> SeeOneEventThenLeaveAsync(TestCluster cluster, object payload)
    {
        var client = await cluster.ConnectAsync(0, "home");
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", payload).DefaultTimeout();
        var last = (await client.WaitForAsync("cmd.seq")).EventId;
        await client.DisposeAsync();
        return last;
    }
}

using ServerEvents.History;

namespace ServerEvents.Tests.Unit;

public sealed class MemoryEventHistoryTests
{
    private readonly ManualClock _clock = new();
    private long _nextId;

    private ServerEvent Append(MemoryEventHistory history, params string[] targets)
    {
        var e = new ServerEvent(++_nextId, null, "cmd.seq", _nextId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var target in targets)
        {
            history.Append(target, e);
        }
        return e;
    }

    [Fact]
    public void Replays_each_event_once_in_id_order_across_targets()
    {
        var history = new MemoryEventHistory(10, null, _clock);
        Append(history, "a");
        Append(history, "b", "a");
        Append(history, "b");
        var replay = history.Since(["a", "b", "never-written"], 0);
        Assert.True(replay.Complete);
        Assert.Equal([1L, 2, 3], replay.Events.Select(e => e.EventId));
        Assert.Equal([3L], history.Since(["a", "b"], 2).Events.Select(e => e.EventId));
    }

    [Fact]
    public void Past_the_count_cap_a_reset_stands_through_the_last_dropped_id_then_what_is_kept()
    {
        var history = new MemoryEventHistory(3, null, _clock);
        for (var i = 0; i < 5; i++)
        {
            Append(history, "a");
        }
        var replay = history.Since(["a"], 1);
        Assert.Equal(2, replay.ResetThrough);
        Assert.Equal([3L, 4, 5], replay.Events.Select(e => e.EventId));
        Assert.True(history.Since(["a"], 2).Complete);
    }

    [Fact]
    public void Events_older_than_the_age_cap_are_dropped_written_or_idle()
    {
        var history = new MemoryEventHistory(100, TimeSpan.FromSeconds(10), _clock);
        Append(history, "busy", "idle");
        Append(history, "busy", "idle");
        _clock.Advance(TimeSpan.FromSeconds(11));
        Append(history, "busy");

        // The written target trimmed its aged events; the idle one was forgotten with them.
        var busy = history.Since(["busy"], 0);
        Assert.Equal(2, busy.ResetThrough);
        Assert.Equal([3L], busy.Events.Select(e => e.EventId));
        Assert.Equal(2, history.Since(["idle"], 0).ResetThrough);
        // A client that saw everything before the cap has nothing to be told.
        Assert.True(history.Since(["busy", "idle"], 2).Complete);
    }

    [Fact]
    public void A_target_forgotten_after_the_age_cap_resets_only_clients_older_than_the_cap()
    {
        var history = new MemoryEventHistory(100, TimeSpan.FromSeconds(10), _clock);
        Append(history, "gone");
        _clock.Advance(TimeSpan.FromSeconds(11));
        Append(history, "other");
        _clock.Advance(TimeSpan.FromSeconds(2));
        Append(history, "other");

        // "gone" was idle past the cap and is forgotten: a client from before the cap may have missed it.
        Assert.Equal(1, history.Since(["gone"], 0).ResetThrough);
        Assert.True(history.Since(["gone"], 1).Complete);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}

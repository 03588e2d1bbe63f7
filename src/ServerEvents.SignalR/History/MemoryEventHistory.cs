namespace ServerEvents.History;

/// <summary>
/// The memory back-end's history: the last <see cref="ServerEventsOptions.HistoryPerTarget"/> events of every
/// group (channel, user id, user name, session) and of notify-all, none older than
/// <see cref="ServerEventsOptions.HistoryMaxAge"/>, with the highest id each one dropped. Appended under the
/// delivery's order lock, so a target's history holds its events in id order, and holding event N means holding
/// every earlier event of that target that is still kept.
/// </summary>
/// <remarks>
/// Not thread-safe by itself: every call is made under <c>HubEventDelivery</c>'s order lock. Ages come from
/// <see cref="TimeProvider"/>; like the Redis back-end, a clock of the first id of each second turns "older than
/// the cap" into "an id below X", and targets idle for longer than the cap are forgotten (least recently written first).
/// </remarks>
internal sealed class MemoryEventHistory(int perTarget, TimeSpan? maxAge, TimeProvider time)
{
    private readonly Dictionary<string, LinkedListNode<Target>> _targets = new(StringComparer.Ordinal);
    // Targets by last write, oldest first.
    private readonly LinkedList<Target> _byLastWrite = new();
    private readonly Queue<(long At, long FirstId)> _clock = new();
    private readonly long _maxAgeMs = maxAge is { } age && age > TimeSpan.Zero ? Math.Max(1, (long)age.TotalMilliseconds) : 0;
    private long _lastId;
    private long _lastTick = long.MinValue;

    public bool Enabled => perTarget > 0;

    public void Append(string target, ServerEvent serverEvent)
    {
        if (!Enabled)
        {
            return;
        }
        _lastId = serverEvent.EventId;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!_targets.TryGetValue(target, out var node))
        {
            node = _byLastWrite.AddLast(new Target(target));
            _targets[target] = node;
        }
        else
        {
            _byLastWrite.Remove(node);
            _byLastWrite.AddLast(node);
        }
        var kept = node.Value;
        kept.LastWrite = now;
        kept.Events.Enqueue(serverEvent);
        while (kept.Events.Count > perTarget)
        {
            kept.Dropped = kept.Events.Dequeue().EventId;
        }
        if (_maxAgeMs > 0)
        {
            Tick(now, serverEvent.EventId);
            DropOlderThan(kept, Young(now));
        }
    }

    private static void DropOlderThan(Target kept, long young)
    {
        while (kept.Events.TryPeek(out var oldest) && oldest.EventId < young)
        {
            kept.Dropped = kept.Events.Dequeue().EventId;
        }
    }

    /// <summary>
    /// Events of <paramref name="targets"/> after <paramref name="lastEventId"/>, in id order, each once; where a
    /// target no longer reaches back that far, a reset through the highest id it may have lost.
    /// </summary>
    public Replay Since(IEnumerable<string> targets, long lastEventId)
    {
        var young = _maxAgeMs > 0 ? Young(time.GetUtcNow().ToUnixTimeMilliseconds()) : 0;
        var events = new List<ServerEvent>();
        long? through = null;
        foreach (var target in targets)
        {
            if (!_targets.TryGetValue(target, out var node))
            {
                // Never written, or forgotten with everything older than the age cap: that matters only to a
                // client whose id is older than that.
                if (lastEventId + 1 < young)
                {
                    through = Math.Max(through ?? 0, young - 1);
                }
                continue;
            }
            var kept = node.Value;
            DropOlderThan(kept, young);
            if (kept.Dropped > lastEventId)
            {
                through = Math.Max(through ?? 0, kept.Dropped);
            }
            events.AddRange(kept.Events.Where(e => e.EventId > lastEventId));
        }
        return Replay.Of(events, through);
    }

    /// <summary>Records the first id of each second, and forgets targets idle for longer than the cap.</summary>
    private void Tick(long now, long eventId)
    {
        if (_lastTick > now - 1000)
        {
            return;
        }
        _lastTick = now;
        _clock.Enqueue((now, eventId));
        while (_byLastWrite.First is { } idle && idle.Value.LastWrite < now - _maxAgeMs)
        {
            _byLastWrite.RemoveFirst();
            _targets.Remove(idle.Value.Name);
        }
    }

    /// <summary>The first id published within the age cap (the next id when none was); forgets older seconds.</summary>
    private long Young(long now)
    {
        while (_clock.TryPeek(out var oldest) && oldest.At < now - _maxAgeMs)
        {
            _clock.Dequeue();
        }
        return _clock.TryPeek(out var first) ? first.FirstId : _lastId + 1;
    }

    private sealed class Target(string name)
    {
        public string Name { get; } = name;

        public Queue<ServerEvent> Events { get; } = new();

        public long Dropped { get; set; }

        public long LastWrite { get; set; }
    }
}

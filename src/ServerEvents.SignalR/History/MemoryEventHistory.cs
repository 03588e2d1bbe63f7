namespace ServerEvents.History;

/// <summary>
/// The memory back-end's history: the last <see cref="ServerEventsOptions.HistoryPerTarget"/> events of every
/// group (channel, user id, user name, session) and of notify-all, with the highest id each one dropped.
/// Appended under the delivery's order lock, so a target's history holds its events in id order, and holding
/// event N means holding every earlier event of that target that is still kept.
/// </summary>
/// <remarks>Not thread-safe by itself: every call is made under <c>HubEventDelivery</c>'s order lock.</remarks>
internal sealed class MemoryEventHistory(int perTarget)
{
    private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);

    public void Append(string target, ServerEvent serverEvent)
    {
        if (perTarget <= 0)
        {
            return;
        }
        if (!_targets.TryGetValue(target, out var kept))
        {
            _targets[target] = kept = new Target();
        }
        kept.Events.Enqueue(serverEvent);
        while (kept.Events.Count > perTarget)
        {
            kept.Dropped = kept.Events.Dequeue().EventId;
        }
    }

    /// <summary>Events of <paramref name="targets"/> after <paramref name="lastEventId"/>, in id order, each once.</summary>
    public Replay Since(IEnumerable<string> targets, long lastEventId)
    {
        var events = new SortedDictionary<long, ServerEvent>();
        foreach (var target in targets)
        {
            if (!_targets.TryGetValue(target, out var kept))
            {
                continue;
            }
            if (kept.Dropped > lastEventId)
            {
                return Replay.Reset;
            }
            foreach (var e in kept.Events)
            {
                if (e.EventId > lastEventId)
                {
                    events.TryAdd(e.EventId, e);
                }
            }
        }
        return new Replay([.. events.Values], Complete: true);
    }

    private sealed class Target
    {
        public Queue<ServerEvent> Events { get; } = new();

        public long Dropped { get; set; }
    }
}

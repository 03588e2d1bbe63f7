namespace ServerEvents.History;

/// <summary>
/// What a resuming connection gets: the events it missed, in id order, each once — and, when the kept history no
/// longer reaches back to its last event id, the point up to which it cannot be told what it missed
/// (<see cref="ResetThrough"/>): it then gets a reset event with that id, followed by the kept events after it.
/// </summary>
/// <param name="Events">Events to replay, oldest first, each once; all after <see cref="ResetThrough"/> when there is one.</param>
/// <param name="ResetThrough">Null when nothing is missing; else the highest id up to which events may be missing.</param>
internal sealed record Replay(IReadOnlyList<ServerEvent> Events, long? ResetThrough = null)
{
    public static Replay Nothing { get; } = new([]);

    public bool Complete => ResetThrough is null;

    /// <summary>Nothing is known up to <paramref name="through"/>; <paramref name="kept"/> are the kept events, of which those after it are replayed.</summary>
    public static Replay Reset(long through, IEnumerable<ServerEvent>? kept = null) =>
        new([.. InOrder((kept ?? []).Where(e => e.EventId > through))], through);

    /// <summary>The events read from several targets (an event may be in more than one), after a reset where one is needed.</summary>
    public static Replay Of(IEnumerable<ServerEvent> events, long? resetThrough) =>
        resetThrough is { } through ? Reset(through, events) : new([.. InOrder(events)]);

    private static IEnumerable<ServerEvent> InOrder(IEnumerable<ServerEvent> events) =>
        events.DistinctBy(e => e.EventId).OrderBy(e => e.EventId);
}

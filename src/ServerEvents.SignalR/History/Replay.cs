namespace ServerEvents.History;

/// <summary>
/// What a resuming connection gets: the events it missed, in id order, or — when the kept history no longer
/// reaches back to its last event id — nothing but the instruction to reset (<see cref="Complete"/> false).
/// </summary>
/// <param name="Events">Events after the last id the client saw, oldest first, each once.</param>
/// <param name="Complete">False when some events after that id are no longer kept.</param>
internal sealed record Replay(IReadOnlyList<ServerEvent> Events, bool Complete)
{
    public static Replay Reset { get; } = new([], false);

    public static Replay Nothing { get; } = new([], true);
}

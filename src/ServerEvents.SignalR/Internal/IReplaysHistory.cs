using ServerEvents.History;

namespace ServerEvents.Internal;

/// <summary>
/// Marks a <c>HubLifetimeManager</c> that keeps event history itself (the Redis manager: streams written by
/// the publish script) and can join a connection to its groups and replay what it missed without a gap or a
/// duplicate at the seam.
/// </summary>
internal interface IReplaysHistory
{
    /// <summary>
    /// Joins <paramref name="connectionId"/> (a connection of this server) to <paramref name="groups"/> and sends
    /// it, in id order, every kept event of those groups and of notify-all after <paramref name="lastEventId"/>;
    /// live events are held meanwhile and those the replay already covered are dropped.
    /// </summary>
    Task<Replay> JoinAndReplayAsync(string connectionId, IReadOnlyList<string> groups, long lastEventId, CancellationToken cancellationToken);

    /// <summary>
    /// Joins <paramref name="connectionId"/> to <paramref name="groups"/> and sends it <paramref name="onConnect"/> — made
    /// with the id of the last event published before the joins — ahead of every live event of those groups after it.
    /// </summary>
    Task JoinFromNowAsync(string connectionId, IReadOnlyList<string> groups, Func<long, ServerEvent> onConnect, CancellationToken cancellationToken);
}

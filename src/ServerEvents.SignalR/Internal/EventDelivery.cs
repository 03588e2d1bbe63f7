namespace ServerEvents.Internal;

/// <summary>
/// The single delivery path: turns (target, selector, json) into one <see cref="ServerEvent"/> with a fresh
/// event id and hands it to SignalR's <c>HubLifetimeManager</c>. Non-generic so the rest of the core does
/// not depend on the app's hub type; <see cref="HubEventDelivery{THub}"/> is the only implementation.
/// </summary>
internal abstract class EventDelivery
{
    private long _sent;

    /// <summary>Events published by this server since start.</summary>
    public long NotificationsSent => Interlocked.Read(ref _sent);

    public Task ToAllAsync(string selector, string json, CancellationToken cancellationToken) =>
        SendAllAsync(Stamp(null, selector, json), cancellationToken);

    /// <summary>Sends to a channel's members; the event carries the channel.</summary>
    public Task ToChannelAsync(string channel, string selector, string json, CancellationToken cancellationToken) =>
        SendGroupAsync(channel, Stamp(channel, selector, json), cancellationToken);

    /// <summary>Sends to one of the identity groups (<see cref="GroupNames"/>); the event carries no channel.</summary>
    public Task ToIdentityGroupAsync(string group, string selector, string json, CancellationToken cancellationToken) =>
        SendGroupAsync(group, Stamp(null, selector, json), cancellationToken);

    public Task ToConnectionAsync(string connectionId, string selector, string json, CancellationToken cancellationToken) =>
        SendConnectionAsync(connectionId, Stamp(null, selector, json), cancellationToken);

    /// <summary>
    /// Sends a resuming connection its <c>cmd.onConnect</c> under the id it resumes after, straight to it: a fresh id
    /// would be higher than those of the events replayed next, and a client dropped in between would resume after
    /// it and lose them.
    /// </summary>
    public Task ToResumingConnectionAsync(string connectionId, long lastEventId, string selector, string json, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        return SendConnectionAsync(connectionId, new ServerEvent(lastEventId, null, selector, json), cancellationToken);
    }

    public Task ToConnectionsAsync(IReadOnlyList<string> connectionIds, string selector, string json, CancellationToken cancellationToken) =>
        connectionIds.Count == 0
            ? Task.CompletedTask
            : SendConnectionsAsync(connectionIds, Stamp(null, selector, json), cancellationToken);

    public abstract Task AddToGroupAsync(string connectionId, string group, CancellationToken cancellationToken);

    /// <summary>
    /// Joins a new connection to its groups; with <paramref name="lastEventId"/> (a client resuming) it also gets,
    /// in id order and without a gap or a duplicate at the seam with live delivery, every kept event of those
    /// groups and of notify-all after that id — or, when history no longer reaches back, an incomplete replay.
    /// </summary>
    public abstract Task<History.Replay> JoinAsync(string connectionId, IReadOnlyList<string> groups, long? lastEventId, CancellationToken cancellationToken);

    public abstract Task RemoveFromGroupAsync(string connectionId, string group, CancellationToken cancellationToken);

    protected abstract Task SendAllAsync(ServerEvent serverEvent, CancellationToken cancellationToken);

    protected abstract Task SendGroupAsync(string group, ServerEvent serverEvent, CancellationToken cancellationToken);

    protected abstract Task SendConnectionAsync(string connectionId, ServerEvent serverEvent, CancellationToken cancellationToken);

    protected abstract Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, ServerEvent serverEvent, CancellationToken cancellationToken);

    // Id 0: the implementation assigns it, atomically with handing the event over (see HubEventDelivery).
    private ServerEvent Stamp(string? channel, string selector, string json)
    {
        Interlocked.Increment(ref _sent);
        return new ServerEvent(0, channel, selector, json);
    }
}

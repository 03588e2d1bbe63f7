namespace ServerEvents.Internal;

/// <summary>
/// The single delivery path: turns (target, selector, json) into one <see cref="ServerEvent"/> with a fresh
/// event id and hands it to SignalR's <c>HubLifetimeManager</c>. Non-generic so the rest of the core does
/// not depend on the app's hub type; <see cref="HubEventDelivery{THub}"/> is the only implementation.
/// </summary>
internal abstract class EventDelivery
{
    private const string OnConnectSelector = "cmd.onConnect";
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
    /// Sends a new connection its <c>cmd.onConnect</c> and joins it to its groups, so that <c>cmd.onConnect</c> is the
    /// first event it gets and every event published to those groups after it reaches it, whichever server publishes
    /// (ServiceStack's contract: a client that has its onConnect is subscribed).
    /// </summary>
    /// <remarks>
    /// A fresh connection's onConnect carries the id of the last event published before it joined: it has everything
    /// after that id, which is where it would resume. A resuming connection's carries the id it resumes after (a fresh id
    /// would be higher than those of the events replayed next, and a client dropped in between would resume after it and
    /// lose them), and then gets what it missed, or — where history no longer reaches back — an incomplete replay.
    /// </remarks>
    public async Task<History.Replay> ConnectAsync(string connectionId, IReadOnlyList<string> groups, long? lastEventId, string onConnectJson, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        if (lastEventId is not { } last)
        {
            await JoinFromNowAsync(connectionId, groups, id => new ServerEvent(id, null, OnConnectSelector, onConnectJson), cancellationToken);
            return History.Replay.Nothing;
        }
        await SendConnectionAsync(connectionId, new ServerEvent(last, null, OnConnectSelector, onConnectJson), cancellationToken);
        return await JoinAsync(connectionId, groups, last, cancellationToken);
    }

    public Task ToConnectionsAsync(IReadOnlyList<string> connectionIds, string selector, string json, CancellationToken cancellationToken) =>
        connectionIds.Count == 0
            ? Task.CompletedTask
            : SendConnectionsAsync(connectionIds, Stamp(null, selector, json), cancellationToken);

    public abstract Task AddToGroupAsync(string connectionId, string group, CancellationToken cancellationToken);

    /// <summary>
    /// Joins a resuming connection to its groups; it also gets, in id order and without a gap or a duplicate at the seam
    /// with live delivery, every kept event of those groups and of notify-all after <paramref name="lastEventId"/> — or,
    /// when history no longer reaches back, an incomplete replay.
    /// </summary>
    protected abstract Task<History.Replay> JoinAsync(string connectionId, IReadOnlyList<string> groups, long lastEventId, CancellationToken cancellationToken);

    /// <summary>
    /// Joins a new connection to its groups and sends it <paramref name="onConnect"/>, made with the id of the last
    /// event published before the joins, as its first event: nothing published after that id is missed.
    /// </summary>
    protected abstract Task JoinFromNowAsync(string connectionId, IReadOnlyList<string> groups, Func<long, ServerEvent> onConnect, CancellationToken cancellationToken);

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

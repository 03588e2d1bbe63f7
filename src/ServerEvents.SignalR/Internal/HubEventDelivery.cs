using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using ServerEvents.History;

namespace ServerEvents.Internal;

/// <summary>
/// <see cref="EventDelivery"/> over the app's <see cref="HubLifetimeManager{THub}"/>: SignalR's default
/// manager on the memory back-end, the Redis manager when scaled out. Each send passes one argument
/// array, which SignalR serializes once per protocol and reuses for every recipient. Ids come from a
/// local counter, unless the manager stamps them itself (<see cref="IStampsEventIds"/>).
/// </summary>
/// <remarks>
/// One order: with the local counter, the id is assigned and the writes to every recipient dispatched under
/// one lock, so no connection is handed a later id before an earlier one (SignalR's per-connection write
/// lock then queues writes first come, first served). The Redis manager gets the same from Redis, which runs
/// the publish scripts one at a time and pushes their messages to every server in that order.
/// </remarks>
internal sealed class HubEventDelivery<THub>(HubLifetimeManager<THub> manager, IOptions<ServerEventsOptions> options, TimeProvider time) : EventDelivery
    where THub : Hub
{
    private readonly bool _managerStampsIds = manager is IStampsEventIds;
    private readonly Lock _order = new();
    // The memory back-end's history; a manager that stamps ids keeps its own (IReplaysHistory).
    private readonly MemoryEventHistory _history = new(manager is IStampsEventIds ? 0 : options.Value.HistoryPerTarget, options.Value.HistoryMaxAge, time);
    // Like the Redis counter, ids start at the current time in µs, so a restarted server's ids follow its previous
    // run's and a client resuming from before the restart is recognised (its id is below the start).
    private readonly long _start = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    private long _issued;

    public override Task AddToGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.AddToGroupAsync(connectionId, group, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.RemoveFromGroupAsync(connectionId, group, cancellationToken);

    protected override Task JoinFromNowAsync(string connectionId, IReadOnlyList<string> groups, Func<long, ServerEvent> onConnect, CancellationToken cancellationToken)
    {
        if (manager is IReplaysHistory replaying)
        {
            return replaying.JoinFromNowAsync(connectionId, groups, onConnect, cancellationToken);
        }
        if (manager is not DefaultHubLifetimeManager<THub>)
        {
            return JoinOtherManagerAsync(connectionId, groups, onConnect, cancellationToken);
        }
        lock (_order)
        {
            // Under the order lock nothing is published meanwhile: onConnect is queued first, and every later event
            // finds the connection in its groups. SignalR's memory manager joins synchronously.
            _ = manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [onConnect(_start + _issued)], cancellationToken);
            foreach (var group in groups)
            {
                _ = manager.AddToGroupAsync(connectionId, group, cancellationToken);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// An app's own manager (not ours, not SignalR's memory one) may join asynchronously: onConnect first, then the joins,
    /// awaited — the order of before, without the readiness guarantee, which needs a manager that can hold a connection.
    /// </summary>
    private async Task JoinOtherManagerAsync(string connectionId, IReadOnlyList<string> groups, Func<long, ServerEvent> onConnect, CancellationToken cancellationToken)
    {
        Task sent;
        lock (_order)
        {
            sent = manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [onConnect(_start + _issued)], cancellationToken);
        }
        await sent;
        foreach (var group in groups)
        {
            await manager.AddToGroupAsync(connectionId, group, cancellationToken);
        }
    }

    protected override async Task<Replay> JoinAsync(string connectionId, IReadOnlyList<string> groups, long last, CancellationToken cancellationToken)
    {
        if (manager is IReplaysHistory replaying)
        {
            return await replaying.JoinAndReplayAsync(connectionId, groups, last, cancellationToken);
        }
        lock (_order)
        {
            // Under the order lock no event is published meanwhile: each one is either in the history read here
            // (before the join) or delivered live (after it). SignalR's memory manager joins synchronously.
            foreach (var group in groups)
            {
                _ = manager.AddToGroupAsync(connectionId, group, cancellationToken);
            }
            var replay = Resume([.. groups.Append(GroupNames.All).Distinct(StringComparer.Ordinal)], last);
            if (replay.ResetThrough is { } through)
            {
                // In id order, where the missing events would have been.
                _ = manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [ResetNotice.Create(last, through, ResetNotice.TooOld)], cancellationToken);
            }
            foreach (var e in replay.Events)
            {
                _ = manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [e], cancellationToken);
            }
            return replay;
        }
    }

    /// <summary>What a client last seen at <paramref name="last"/> gets; called under the order lock.</summary>
    private Replay Resume(IReadOnlyList<string> targets, long last)
    {
        var current = _start + _issued;
        // An id never issued (made up, or a clock that went back): nothing is known of what followed it.
        if (last > current)
        {
            return Replay.Reset(current);
        }
        // No history: nothing can be replayed, which matters only if something was published since.
        if (!_history.Enabled)
        {
            return last == current ? Replay.Nothing : Replay.Reset(current);
        }
        // From before this server started: what it kept since is replayed after the reset.
        if (last < _start)
        {
            var since = _history.Since(targets, _start);
            return Replay.Reset(Math.Max(_start, since.ResetThrough ?? 0), since.Events);
        }
        return _history.Since(targets, last);
    }

    // Each send names its target in a state tuple for a static lambda: a notify allocates no closure for it.
    protected override Task SendAllAsync(ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, GroupNames.All, (manager, cancellationToken),
            static (s, e) => s.manager.SendGroupAsync(GroupNames.All, ServerEventsHubBase.ClientMethod, [e], s.cancellationToken));

    protected override Task SendGroupAsync(string group, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, group, (manager, group, cancellationToken),
            static (s, e) => s.manager.SendGroupAsync(s.group, ServerEventsHubBase.ClientMethod, [e], s.cancellationToken));

    protected override Task SendConnectionAsync(string connectionId, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, null, (manager, connectionId, cancellationToken),
            static (s, e) => s.manager.SendConnectionAsync(s.connectionId, ServerEventsHubBase.ClientMethod, [e], s.cancellationToken));

    protected override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, null, (manager, connectionIds, cancellationToken),
            static (s, e) => s.manager.SendConnectionsAsync(s.connectionIds, ServerEventsHubBase.ClientMethod, [e], s.cancellationToken));

    private Task InOrder<TState>(ServerEvent serverEvent, string? historyTarget, TState state, Func<TState, ServerEvent, Task> send)
    {
        // An event that carries its id already is not a new one in the order (see ConnectAsync).
        if (_managerStampsIds || serverEvent.EventId != 0)
        {
            return send(state, serverEvent);
        }
        lock (_order)
        {
            var stamped = serverEvent with { EventId = _start + ++_issued };
            if (historyTarget is not null)
            {
                _history.Append(historyTarget, stamped);
            }
            // The manager's send writes to every local connection before it returns its task.
            return send(state, stamped);
        }
    }
}

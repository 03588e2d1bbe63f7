using Microsoft.AspNetCore.SignalR;

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
internal sealed class HubEventDelivery<THub>(HubLifetimeManager<THub> manager) : EventDelivery
    where THub : Hub
{
    private readonly bool _managerStampsIds = manager is IStampsEventIds;
    private readonly Lock _order = new();
    private long _lastEventId;

    public override Task AddToGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.AddToGroupAsync(connectionId, group, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.RemoveFromGroupAsync(connectionId, group, cancellationToken);

    protected override Task SendAllAsync(ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, e => manager.SendAllAsync(ServerEventsHubBase.ClientMethod, [e], cancellationToken));

    protected override Task SendGroupAsync(string group, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, e => manager.SendGroupAsync(group, ServerEventsHubBase.ClientMethod, [e], cancellationToken));

    protected override Task SendConnectionAsync(string connectionId, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, e => manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [e], cancellationToken));

    protected override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        InOrder(serverEvent, e => manager.SendConnectionsAsync(connectionIds, ServerEventsHubBase.ClientMethod, [e], cancellationToken));

    private Task InOrder(ServerEvent serverEvent, Func<ServerEvent, Task> send)
    {
        if (_managerStampsIds)
        {
            return send(serverEvent);
        }
        lock (_order)
        {
            // The manager's send writes to every local connection before it returns its task.
            return send(serverEvent with { EventId = ++_lastEventId });
        }
    }
}

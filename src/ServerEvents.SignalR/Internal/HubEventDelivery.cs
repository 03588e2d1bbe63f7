using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Internal;

/// <summary>
/// <see cref="EventDelivery"/> over the app's <see cref="HubLifetimeManager{THub}"/>: SignalR's default
/// manager on the memory back-end, the Redis manager when scaled out. Each send passes one argument
/// array, which SignalR serializes once per protocol and reuses for every recipient. Ids come from a
/// local counter, unless the manager stamps them itself (<see cref="IStampsEventIds"/>).
/// </summary>
internal sealed class HubEventDelivery<THub>(HubLifetimeManager<THub> manager) : EventDelivery
    where THub : Hub
{
    private readonly bool _managerStampsIds = manager is IStampsEventIds;
    private long _lastEventId;

    public override Task AddToGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.AddToGroupAsync(connectionId, group, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string group, CancellationToken cancellationToken) =>
        manager.RemoveFromGroupAsync(connectionId, group, cancellationToken);

    protected override long NextEventId() => _managerStampsIds ? 0 : Interlocked.Increment(ref _lastEventId);

    protected override Task SendAllAsync(ServerEvent serverEvent, CancellationToken cancellationToken) =>
        manager.SendAllAsync(ServerEventsHubBase.ClientMethod, [serverEvent], cancellationToken);

    protected override Task SendGroupAsync(string group, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        manager.SendGroupAsync(group, ServerEventsHubBase.ClientMethod, [serverEvent], cancellationToken);

    protected override Task SendConnectionAsync(string connectionId, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        manager.SendConnectionAsync(connectionId, ServerEventsHubBase.ClientMethod, [serverEvent], cancellationToken);

    protected override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, ServerEvent serverEvent, CancellationToken cancellationToken) =>
        manager.SendConnectionsAsync(connectionIds, ServerEventsHubBase.ClientMethod, [serverEvent], cancellationToken);
}

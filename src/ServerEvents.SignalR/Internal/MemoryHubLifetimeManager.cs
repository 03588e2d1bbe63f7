using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Internal;

/// <summary>
/// The memory back-end's manager: SignalR's own, plus the count of recipients of each Server Events event for
/// <c>serverevents.deliveries</c>. SignalR keeps its groups to itself, so the group sizes are kept here too (a
/// connection's groups, under its own lock); sends of other methods are not counted.
/// </summary>
internal sealed class MemoryHubLifetimeManager<THub>(ILogger<DefaultHubLifetimeManager<THub>> logger, ServerEventsMetrics metrics)
    : DefaultHubLifetimeManager<THub>(logger)
    where THub : Hub
{
    private readonly Dictionary<string, HashSet<string>> _groupsOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _groupSizes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        lock (_gate)
        {
            _groupsOf[connection.ConnectionId] = new HashSet<string>(StringComparer.Ordinal);
        }
        await base.OnConnectedAsync(connection);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        await base.OnDisconnectedAsync(connection);
        lock (_gate)
        {
            if (_groupsOf.Remove(connection.ConnectionId, out var groups))
            {
                foreach (var group in groups)
                {
                    Shrink(group);
                }
            }
        }
    }

    public override async Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        await base.AddToGroupAsync(connectionId, groupName, cancellationToken);
        lock (_gate)
        {
            if (_groupsOf.TryGetValue(connectionId, out var groups) && groups.Add(groupName))
            {
                _groupSizes[groupName] = _groupSizes.GetValueOrDefault(groupName) + 1;
            }
        }
    }

    public override async Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
    {
        await base.RemoveFromGroupAsync(connectionId, groupName, cancellationToken);
        lock (_gate)
        {
            if (_groupsOf.TryGetValue(connectionId, out var groups) && groups.Remove(groupName))
            {
                Shrink(groupName);
            }
        }
    }

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (Counted(methodName))
        {
            int size;
            lock (_gate)
            {
                size = _groupSizes.GetValueOrDefault(groupName);
            }
            metrics.Delivered(size);
        }
        return base.SendGroupAsync(groupName, methodName, args, cancellationToken);
    }

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (Counted(methodName))
        {
            lock (_gate)
            {
                metrics.Delivered(_groupsOf.ContainsKey(connectionId) ? 1 : 0);
            }
        }
        return base.SendConnectionAsync(connectionId, methodName, args, cancellationToken);
    }

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (Counted(methodName))
        {
            int connected;
            lock (_gate)
            {
                connected = connectionIds.Count(_groupsOf.ContainsKey);
            }
            metrics.Delivered(connected);
        }
        return base.SendConnectionsAsync(connectionIds, methodName, args, cancellationToken);
    }

    /// <summary>A Server Events event, while anyone listens to <c>serverevents.deliveries</c>.</summary>
    private bool Counted(string methodName) => metrics.DeliveriesObserved && methodName == ServerEventsHubBase.ClientMethod;

    private void Shrink(string group)
    {
        var left = _groupSizes[group] - 1;
        if (left == 0)
        {
            _groupSizes.Remove(group);
        }
        else
        {
            _groupSizes[group] = left;
        }
    }
}

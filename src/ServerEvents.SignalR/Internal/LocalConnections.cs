using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Internal;

/// <summary>
/// The connections this app server owns, so it can close them (unregister, reset); their number by transport is
/// <c>serverevents.subscriptions</c>.
/// </summary>
internal sealed class LocalConnections(ServerEventsMetrics metrics)
{
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new(StringComparer.Ordinal);

    public int Count => _connections.Count;

    public void Add(HubCallerContext context)
    {
        if (_connections.TryAdd(context.ConnectionId, context))
        {
            metrics.SubscriptionAdded(ServerEventsMetrics.TransportOf(context));
        }
    }

    public void Remove(string connectionId) => TryRemove(connectionId, out _);

    /// <summary>Closes the connection if this server owns it.</summary>
    public bool Abort(string connectionId)
    {
        if (!TryRemove(connectionId, out var context))
        {
            return false;
        }
        context.Abort();
        return true;
    }

    public void AbortAll()
    {
        foreach (var id in _connections.Keys)
        {
            Abort(id);
        }
    }

    private bool TryRemove(string connectionId, out HubCallerContext context)
    {
        if (!_connections.TryRemove(connectionId, out context!))
        {
            return false;
        }
        metrics.SubscriptionRemoved(ServerEventsMetrics.TransportOf(context));
        return true;
    }
}

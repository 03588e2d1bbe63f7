using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Internal;

/// <summary>The connections this app server owns, so it can close them (unregister, reset).</summary>
internal sealed class LocalConnections
{
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new(StringComparer.Ordinal);

    public int Count => _connections.Count;

    public void Add(HubCallerContext context) => _connections[context.ConnectionId] = context;

    public void Remove(string connectionId) => _connections.TryRemove(connectionId, out _);

    /// <summary>Closes the connection if this server owns it.</summary>
    public bool Abort(string connectionId)
    {
        if (!_connections.TryRemove(connectionId, out var context))
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
}

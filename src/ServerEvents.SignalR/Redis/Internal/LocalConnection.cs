using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Redis.Internal;

/// <summary>A connection this server owns, with the groups it is in and its count of writes not yet flushed.</summary>
internal sealed class LocalConnection(HubConnectionContext context)
{
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private readonly Queue<SerializedHubMessage> _queue = new();
    private bool _draining;

    public HubConnectionContext Context { get; } = context;

    public string Id => Context.ConnectionId;

    public string[] Groups
    {
        get
        {
            lock (_groups)
            {
                return [.. _groups];
            }
        }
    }

    public void Joined(string group)
    {
        lock (_groups)
        {
            _groups.Add(group);
        }
    }

    public void Left(string group)
    {
        lock (_groups)
        {
            _groups.Remove(group);
        }
    }

    /// <summary>
    /// Queues a write without waiting for it, so a slow client never delays the others; writes reach the
    /// client in the order they were queued. Returns false (and closes the connection) when too many
    /// writes are already waiting: that client cannot keep up.
    /// </summary>
    public bool TryWrite(SerializedHubMessage message, int maxPending)
    {
        lock (_queue)
        {
            if (_queue.Count >= maxPending)
            {
                _queue.Clear();
                Context.Abort();
                return false;
            }
            _queue.Enqueue(message);
            if (_draining)
            {
                return true;
            }
            _draining = true;
        }
        // Runs synchronously while writes complete synchronously (the common case), so no thread hop.
        _ = DrainAsync();
        return true;
    }

    // One writer at a time per connection: SignalR's own write lock does not keep concurrent writers in order.
    private async Task DrainAsync()
    {
        while (true)
        {
            SerializedHubMessage next;
            lock (_queue)
            {
                if (!_queue.TryDequeue(out next!))
                {
                    _draining = false;
                    return;
                }
            }
            try
            {
                await Context.WriteAsync(next);
            }
            catch (Exception)
            {
                // The connection is closing; SignalR reports it through OnDisconnectedAsync.
                lock (_queue)
                {
                    _queue.Clear();
                    _draining = false;
                }
                return;
            }
        }
    }
}

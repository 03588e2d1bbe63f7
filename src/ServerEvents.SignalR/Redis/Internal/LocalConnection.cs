using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Redis.Internal;

/// <summary>A connection this server owns, with the groups it is in and its count of writes not yet flushed.</summary>
internal sealed class LocalConnection(HubConnectionContext context)
{
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Queue<Write> _queue = new();
    private bool _draining;
    private bool _holding;

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
    /// <param name="message">The serialized message.</param>
    /// <param name="maxPending">Most writes allowed to wait.</param>
    /// <param name="eventId">The Server Events id it carries, 0 for other messages.</param>
    /// <param name="direct">It came to this connection alone (not through a group, user or all).</param>
    public bool TryWrite(SerializedHubMessage message, int maxPending, long eventId = 0, bool direct = false)
    {
        lock (_gate)
        {
            if (_queue.Count >= maxPending)
            {
                _queue.Clear();
                Context.Abort();
                return false;
            }
            _queue.Enqueue(new Write(message, eventId, direct));
            if (_draining || _holding)
            {
                return true;
            }
            _draining = true;
        }
        // Runs synchronously while writes complete synchronously (the common case), so no thread hop.
        _ = DrainAsync();
        return true;
    }

    /// <summary>Keeps incoming writes waiting while the connection joins its groups and its history is read.</summary>
    public void Hold()
    {
        lock (_gate)
        {
            _holding = true;
        }
    }

    /// <summary>
    /// Ends a <see cref="Hold"/>: what came to this connection alone goes first (its <c>cmd.onConnect</c>), then the
    /// replayed events, then the held group events newer than the replay — those up to it are the same events again.
    /// </summary>
    public void Release(IReadOnlyList<(long EventId, SerializedHubMessage Message)> replay)
    {
        var newest = replay.Count == 0 ? 0 : replay[^1].EventId;
        lock (_gate)
        {
            var held = _queue;
            _queue = new Queue<Write>(held.Count + replay.Count);
            foreach (var write in held.Where(w => w.Direct))
            {
                _queue.Enqueue(write);
            }
            foreach (var (eventId, message) in replay)
            {
                _queue.Enqueue(new Write(message, eventId, Direct: false));
            }
            foreach (var write in held.Where(w => !w.Direct && (w.EventId == 0 || w.EventId > newest)))
            {
                _queue.Enqueue(write);
            }
            _holding = false;
            if (_draining || _queue.Count == 0)
            {
                return;
            }
            _draining = true;
        }
        _ = DrainAsync();
    }

    // One writer at a time per connection: SignalR's own write lock does not keep concurrent writers in order.
    private async Task DrainAsync()
    {
        while (true)
        {
            Write next;
            lock (_gate)
            {
                if (_holding || !_queue.TryDequeue(out next))
                {
                    _draining = false;
                    return;
                }
            }
            try
            {
                await Context.WriteAsync(next.Message);
            }
            catch (Exception)
            {
                // The connection is closing; SignalR reports it through OnDisconnectedAsync.
                lock (_gate)
                {
                    _queue.Clear();
                    _draining = false;
                }
                return;
            }
        }
    }

    private readonly record struct Write(SerializedHubMessage Message, long EventId, bool Direct);
}

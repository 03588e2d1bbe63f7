using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Redis.Internal;

/// <summary>A connection this server owns, with the groups it is in and its count of writes not yet flushed.</summary>
internal sealed class LocalConnection(HubConnectionContext context)
{
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Queue<Write> _queue = new();
    private bool _draining;
    private int _holds;
    // The highest event id queued for this connection (never lowered).
    private long _lastQueued;

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
            if (_holds == 0 && eventId > _lastQueued)
            {
                _lastQueued = eventId;
            }
            if (_draining || _holds > 0)
            {
                return true;
            }
            _draining = true;
        }
        // Runs synchronously while writes complete synchronously (the common case), so no thread hop.
        _ = DrainAsync();
        return true;
    }

    /// <summary>
    /// Keeps incoming writes waiting while the connection's history is read: when it joins with a last event id,
    /// or after this server's pub/sub connection was lost. Holds nest; each ends with one <see cref="Release"/>.
    /// </summary>
    /// <returns>The highest event id queued before the hold: every earlier event of this connection's targets is queued too.</returns>
    public long Hold()
    {
        lock (_gate)
        {
            _holds++;
            return _lastQueued;
        }
    }

    /// <summary>
    /// Ends a <see cref="Hold"/>: the replayed and the held events go out merged in id order, each once (a held event
    /// may also be in the replay); held messages without an id (other hub invocations) keep their place around them.
    /// With <paramref name="reset"/> (history no longer reaches back) the reset event stands first, at its id, and held
    /// events up to that id are dropped: the reset tells the client that those may be incomplete.
    /// </summary>
    /// <param name="replay">Events read from history, in id order.</param>
    /// <param name="reset">The reset event and its id, or null.</param>
    public void Release(IReadOnlyList<(long EventId, SerializedHubMessage Message)> replay, (long EventId, SerializedHubMessage Message)? reset = null)
    {
        lock (_gate)
        {
            var held = _queue;
            _queue = new Queue<Write>(held.Count + replay.Count + 1);
            foreach (var write in held.Where(w => w.Direct && w.EventId == 0))
            {
                _queue.Enqueue(write);
            }
            var events = new SortedDictionary<long, Write>();
            if (reset is { } marker)
            {
                events[marker.EventId] = new Write(marker.Message, marker.EventId, Direct: false);
            }
            foreach (var (eventId, message) in replay)
            {
                events.TryAdd(eventId, new Write(message, eventId, Direct: false));
            }
            var after = reset?.EventId ?? 0;
            foreach (var write in held.Where(w => w.EventId > after))
            {
                events.TryAdd(write.EventId, write);
            }
            foreach (var write in events.Values)
            {
                _queue.Enqueue(write);
                _lastQueued = Math.Max(_lastQueued, write.EventId);
            }
            foreach (var write in held.Where(w => !w.Direct && w.EventId == 0))
            {
                _queue.Enqueue(write);
            }
            _holds--;
            if (_holds > 0 || _draining || _queue.Count == 0)
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
                if (_holds > 0 || !_queue.TryDequeue(out next))
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

using System.Buffers;
using Microsoft.AspNetCore.Connections.Abstractions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// A connection this server owns: the groups it is in, and its queue of writes, drained in order by one writer at a time.
/// Server Events envelopes in it go out in id order, each once, also where a replay from history (read on the
/// command connection) meets live delivery (the pub/sub connection, independent of it and possibly behind).
/// </summary>
internal sealed class LocalConnection(HubConnectionContext context)
{
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Queue<Write> _queue = new();
    private bool _draining;
    private int _holds;
    // While held: how many writes at the head of the queue are settled (queued before the hold, or released by a
    // nested hold) and go out first, as they are.
    private int _settled;
    // The highest event id queued for this connection. Every earlier event of its targets is queued too (pub/sub
    // delivers in id order; a replay is complete up to its read), so a later envelope at or below it is a copy.
    private long _lastQueued;
    // Writes at the head of the queue put there by a release (a replay can be longer than the pending-bytes
    // limit): not counted against it, so a client that missed much is not closed as too slow for it.
    private int _released;
    // Bytes of the queued writes after those, as serialized for this connection's protocol.
    private long _pendingBytes;
    private bool _closedAsSlow;
    // Queued for a drain the caller starts after its batch (TryWrite's drainLater): what comes meanwhile is not checked
    // against the budget, since it waits for the batch to end rather than for the client (an inbox batch is bounded).
    private bool _deferred;
    // Reused by the one drain that runs at a time.
    private List<Write>? _burst;

    private const int MaxJoinedWrites = 64;
    private const int MaxJoinedBytes = 32 * 1024;
    // Joined writes count as one message for SignalR: a connection with stateful reconnect numbers and acknowledges
    // messages, so its writes go one by one. (The feature is marked preview; only its presence is tested here.)
#pragma warning disable CA2252
    private readonly bool _joinsWrites = context.Features.Get<IStatefulReconnectFeature>() is null;
#pragma warning restore CA2252

    public HubConnectionContext Context { get; } = context;

    /// <summary>Set once it has left this server (<c>OnDisconnectedAsync</c>): what still arrives for it is answered, not delivered.</summary>
    public volatile bool Departed;

    /// <summary>Set from connect until its join (fresh or with a last event id) is released; a back-fill waits for that (under its own lock).</summary>
    public bool Resuming { get; set; }

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
    /// client in the order they were queued. Returns false (and closes the connection) when more than
    /// <paramref name="maxPendingBytes"/> would wait: that client cannot keep up (once; later writes to it are dropped).
    /// </summary>
    /// <param name="message">The serialized message.</param>
    /// <param name="bytes">It as serialized for this connection's protocol (<see cref="SerializedFor"/>): its size counts
    /// against the budget, and a joined write copies it without asking the message again.</param>
    /// <param name="maxPendingBytes">Most bytes allowed to wait, as serialized for this connection's protocol.</param>
    /// <param name="eventId">The Server Events id it carries, 0 for other messages.</param>
    /// <param name="direct">It came to this connection alone (not through a group, user or all).</param>
    /// <param name="drainLater">Where a write that would start the drain puts this connection instead, for the caller to
    /// <see cref="Drain"/> once it has queued more (the events of one inbox message): the drain then sends them together.</param>
    public bool TryWrite(SerializedHubMessage message, ReadOnlyMemory<byte> bytes, long maxPendingBytes, long eventId = 0, bool direct = false, List<LocalConnection>? drainLater = null)
    {
        var size = bytes.Length;
        lock (_gate)
        {
            if (_holds == 0 && !direct && eventId > 0 && eventId <= _lastQueued)
            {
                // The live copy of an event a replay already queued (pub/sub was behind the history read).
                return true;
            }
            if (_closedAsSlow)
            {
                // Closed already, not yet gone: what still comes for it is dropped, and the close is not reported again.
                return true;
            }
            if (!_deferred && _pendingBytes + size > maxPendingBytes && _queue.Count > _released)
            {
                _queue.Clear();
                _released = 0;
                _pendingBytes = 0;
                _closedAsSlow = true;
                Context.Abort();
                return false;
            }
            _queue.Enqueue(new Write(message, eventId, direct, bytes));
            _pendingBytes += size;
            if (_holds > 0)
            {
                return true;
            }
            _lastQueued = Math.Max(_lastQueued, eventId);
            if (_draining)
            {
                return true;
            }
            _draining = true;
            _deferred = drainLater is not null;
        }
        if (drainLater is not null)
        {
            drainLater.Add(this);
            return true;
        }
        // Runs synchronously while writes complete synchronously (the common case), so no thread hop.
        _ = DrainAsync();
        return true;
    }

    /// <summary>Starts the drain a <see cref="TryWrite"/> with <c>drainLater</c> left to the caller.</summary>
    public void Drain()
    {
        lock (_gate)
        {
            _deferred = false;
        }
        _ = DrainAsync();
    }

    /// <summary>
    /// The message as serialized for <paramref name="protocol"/>, or nothing when it cannot be. SignalR serializes once
    /// per protocol and keeps the bytes for every recipient and for the write itself: this costs no second serialization.
    /// </summary>
    public static ReadOnlyMemory<byte> SerializedFor(SerializedHubMessage message, IHubProtocol protocol)
    {
        try
        {
            return message.GetSerializedMessage(protocol);
        }
        catch (Exception)
        {
            // Not serializable: the write itself fails and SignalR reports it; it holds no bytes here.
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    /// <summary>
    /// Keeps incoming writes waiting while the connection's history is read: when it joins with a last event id,
    /// or after this server's pub/sub connection was lost. Holds nest; each ends with one <see cref="Release"/>.
    /// </summary>
    /// <returns>The id this connection is complete up to: every event of its targets up to it is queued or was sent.</returns>
    public long Hold()
    {
        lock (_gate)
        {
            if (_holds++ == 0)
            {
                _settled = _queue.Count;
            }
            return _lastQueued;
        }
    }

    /// <summary>
    /// Ends a <see cref="Hold"/>. Settled writes go first; then the replayed events and the envelopes that arrived
    /// meanwhile, merged in id order, each once, leaving out those the connection already has (at or below what it is
    /// complete up to); messages without an id (other hub invocations) keep their place around them. A reset (history no
    /// longer reaches back) takes its place in id order; envelopes below it that did arrive are still delivered.
    /// </summary>
    /// <param name="replay">Events read from history, in id order.</param>
    /// <param name="reset">The reset event and its id, or null.</param>
    /// <param name="clientHas">An id the client is known to have everything up to (a resuming client's last id, a new
    /// connection's subscription point), else 0.</param>
    /// <param name="first">An event that goes before every other event of the release (a new connection's onConnect).</param>
    public void Release(IReadOnlyList<(long EventId, SerializedHubMessage Message)> replay, (long EventId, SerializedHubMessage Message)? reset = null, long clientHas = 0,
        (long EventId, SerializedHubMessage Message)? first = null)
    {
        lock (_gate)
        {
            _lastQueued = Math.Max(_lastQueued, clientHas);
            var settled = _queue.Take(_settled).ToList();
            var arrived = _queue.Skip(_settled).ToList();
            _queue = new Queue<Write>(_queue.Count + replay.Count + 2);
            _pendingBytes = 0;
            foreach (var write in settled.Concat(arrived.Where(w => w.Direct && w.EventId == 0)))
            {
                _queue.Enqueue(write);
            }
            if (first is { } head)
            {
                _queue.Enqueue(new Write(head.Message, head.EventId, Direct: true, Bytes: default));
            }
            var events = new SortedDictionary<long, Write>();
            if (reset is { } marker && marker.EventId > _lastQueued)
            {
                events[marker.EventId] = new Write(marker.Message, marker.EventId, Direct: false, Bytes: default);
            }
            foreach (var (eventId, message) in replay.Where(r => r.EventId > _lastQueued))
            {
                events.TryAdd(eventId, new Write(message, eventId, Direct: false, Bytes: default));
            }
            // What came to this connection alone is in no history: delivered even if late.
            foreach (var write in arrived.Where(w => w.EventId > _lastQueued || (w.Direct && w.EventId > 0)))
            {
                events.TryAdd(write.EventId, write);
            }
            foreach (var write in events.Values)
            {
                _queue.Enqueue(write);
                _lastQueued = Math.Max(_lastQueued, write.EventId);
            }
            foreach (var write in arrived.Where(w => !w.Direct && w.EventId == 0))
            {
                _queue.Enqueue(write);
            }
            _released = _queue.Count;
            if (--_holds > 0)
            {
                _settled = _queue.Count;
                return;
            }
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
            var joined = false;
            lock (_gate)
            {
                if (_holds > 0 || !_queue.TryDequeue(out next))
                {
                    _draining = false;
                    return;
                }
                Dequeued(next);
                if (_queue.Count > 0 && _joinsWrites)
                {
                    // Several waiting: sent together, so SignalR takes its lock and flushes once for them (WriteJoinedAsync).
                    var burst = _burst ??= [];
                    burst.Clear();
                    burst.Add(next);
                    while (burst.Count < MaxJoinedWrites && _queue.TryDequeue(out var more))
                    {
                        Dequeued(more);
                        burst.Add(more);
                    }
                    joined = true;
                }
            }
            try
            {
                if (joined)
                {
                    await WriteJoinedAsync(_burst!);
                }
                else
                {
                    await Context.WriteAsync(next.Message);
                }
            }
            catch (Exception)
            {
                lock (_gate)
                {
                    _queue.Clear();
                    _released = 0;
                    _pendingBytes = 0;
                    _draining = false;
                }
                // SignalR closes a connection it failed to write to; this makes sure of it, as its queue is gone.
                Context.Abort();
                return;
            }
        }
    }

    // Called under the gate for each write taken off the queue.
    private void Dequeued(Write write)
    {
        if (_released > 0)
        {
            _released--;
        }
        else
        {
            _pendingBytes -= write.Bytes.Length;
        }
    }

    /// <summary>
    /// Writes several queued messages with as few SignalR writes as possible: their bytes in this connection's protocol,
    /// one after another, up to <see cref="MaxJoinedBytes"/> a write, are what SignalR would have written for each in turn
    /// (every hub protocol frames its messages itself). A message larger than that goes alone.
    /// </summary>
    private async Task WriteJoinedAsync(List<Write> writes)
    {
        var protocol = Context.Protocol;
        // What a release queued (a replay) came without its bytes: asked for them now.
        for (var i = 0; i < writes.Count; i++)
        {
            if (!writes[i].Bytes.IsEmpty)
            {
                continue;
            }
            var bytes = SerializedFor(writes[i].Message, protocol);
            if (bytes.IsEmpty)
            {
                // It cannot be serialized: written one by one, SignalR reports it and closes the connection, as for any write.
                foreach (var write in writes)
                {
                    await Context.WriteAsync(write.Message);
                }
                return;
            }
            writes[i] = writes[i] with { Bytes = bytes };
        }
        var buffer = ArrayPool<byte>.Shared.Rent(MaxJoinedBytes);
        try
        {
            var length = 0;
            foreach (var write in writes)
            {
                var bytes = write.Bytes;
                if (length > 0 && length + bytes.Length > MaxJoinedBytes)
                {
                    await WriteBytesAsync(protocol, buffer.AsMemory(0, length));
                    length = 0;
                }
                if (bytes.Length > MaxJoinedBytes)
                {
                    await Context.WriteAsync(write.Message);
                    continue;
                }
                bytes.Span.CopyTo(buffer.AsSpan(length));
                length += bytes.Length;
            }
            if (length > 0)
            {
                await WriteBytesAsync(protocol, buffer.AsMemory(0, length));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // SignalR has copied the bytes into the connection's pipe once the write completes.
    private ValueTask WriteBytesAsync(IHubProtocol protocol, ReadOnlyMemory<byte> bytes) =>
        Context.WriteAsync(new SerializedHubMessage([new SerializedMessage(protocol.Name, bytes)]));

    // Bytes: the message as serialized for this connection's protocol, which counts against the pending limit while it is
    // queued; empty for what a release put in (a replay, not counted) and for a message that cannot be serialized.
    private readonly record struct Write(SerializedHubMessage Message, long EventId, bool Direct, ReadOnlyMemory<byte> Bytes);
}

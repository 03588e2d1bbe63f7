namespace ServerEvents.Redis.Internal;

/// <summary>
/// Notifications accepted while Redis is unreachable, in the order they were made, up to a bound. While it holds
/// any, later notifications queue behind them instead of overtaking them; it empties from the head once Redis is
/// back (see <c>RedisHubLifetimeManager</c>'s drain loop).
/// </summary>
internal sealed class NotificationBuffer(int capacity)
{
    private readonly Queue<BufferedNotification> _queue = new();
    private readonly Lock _gate = new();
    private long _sequence;
    private long _refused;
    // Read without the lock on every notify: the common case is an empty buffer.
    private volatile int _count;

    public int Capacity { get; } = capacity;

    public int Count => _count;

    /// <summary>When the oldest buffered notification was accepted; null while empty.</summary>
    public DateTimeOffset? Since { get; private set; }

    /// <summary>Notifications refused because the buffer was full, since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Queues <paramref name="create"/>'s notification if the buffer is not empty (or <paramref name="evenIfEmpty"/>).
    /// Returns Skipped when empty, Queued, QueuedFirst (the caller starts draining), or Full.
    /// </summary>
    public BufferResult TryAdd(Func<string, BufferedNotification> create, bool evenIfEmpty)
    {
        if (_count == 0 && !evenIfEmpty)
        {
            return BufferResult.Skipped;
        }
        lock (_gate)
        {
            if (_queue.Count == 0 && !evenIfEmpty)
            {
                return BufferResult.Skipped;
            }
            if (_queue.Count >= Capacity)
            {
                Interlocked.Increment(ref _refused);
                return BufferResult.Full;
            }
            _queue.Enqueue(create((++_sequence).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            _count = _queue.Count;
            if (_queue.Count > 1)
            {
                return BufferResult.Queued;
            }
            Since = DateTimeOffset.UtcNow;
            return BufferResult.QueuedFirst;
        }
    }

    public bool TryPeek(out BufferedNotification next)
    {
        lock (_gate)
        {
            return _queue.TryPeek(out next!);
        }
    }

    /// <summary>Removes the head once it is published; true when that emptied the buffer.</summary>
    public bool RemoveHead()
    {
        lock (_gate)
        {
            _queue.Dequeue();
            _count = _queue.Count;
            if (_queue.Count > 0)
            {
                return false;
            }
            Since = null;
            return true;
        }
    }
}

/// <summary>How <see cref="NotificationBuffer.TryAdd"/> went.</summary>
internal enum BufferResult
{
    Skipped,
    Queued,
    QueuedFirst,
    Full,
}

/// <summary>A publish to retry: its routes and history streams, the message body, and a token that makes it run once.</summary>
internal sealed record BufferedNotification(string[] Routes, string[] Streams, byte[] Body, string Token);

namespace ServerEvents.Redis.Internal;

/// <summary>
/// The highest event id this server's pub/sub loop has handed to its local connections, and the publishers
/// waiting for it. Events come through pub/sub in id order, so once the mark reaches an id, that event — if
/// this server was subscribed to its target — has been queued for every local recipient. A publish with
/// local recipients waits for that, so the publisher is paced by its own server's delivery instead of
/// running ahead of it (which piles writes up until connections are closed as too slow).
/// </summary>
/// <remarks>
/// A wait that is never reached (its echo was lost to a reconnect) ends after between one and two timeouts: one timer
/// for all waiters lets go, at each tick, of those that were already waiting at the tick before. A timer per wait
/// cost the publisher more than the rest of the wait. Disposing lets every waiter go.
/// </remarks>
internal sealed class DeliveryWatermark : IDisposable
{
    private readonly PriorityQueue<Waiter, long> _waiting = new();
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private long _delivered;
    private long _tick;
    private bool _disposed;

    public DeliveryWatermark(TimeSpan timeout)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            _timer = CreateTimer(timeout);
            return;
        }
        // Without the creator's execution context, which the timer would otherwise keep for its whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = CreateTimer(timeout);
        }
    }

    private ITimer CreateTimer(TimeSpan timeout) =>
        TimeProvider.System.CreateTimer(static state => ((DeliveryWatermark)state!).Expire(), this, timeout, timeout);

    /// <summary>The highest id delivered so far.</summary>
    public long Current
    {
        get
        {
            lock (_gate)
            {
                return _delivered;
            }
        }
    }

    public void Delivered(long eventId)
    {
        List<TaskCompletionSource>? done = null;
        lock (_gate)
        {
            if (eventId <= _delivered)
            {
                return;
            }
            _delivered = eventId;
            while (_waiting.TryPeek(out _, out var id) && id <= eventId)
            {
                (done ??= []).Add(_waiting.Dequeue().Done);
            }
        }
        done?.ForEach(waiter => waiter.TrySetResult());
    }

    /// <summary>Completes once <paramref name="eventId"/> was delivered locally, or after one to two timeouts (an echo lost to a reconnect).</summary>
    public Task WaitAsync(long eventId)
    {
        lock (_gate)
        {
            if (eventId <= _delivered || _disposed)
            {
                return Task.CompletedTask;
            }
            // Completed from the inbox loop, which must not run the publisher's continuation.
            var waiter = new Waiter(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), _tick);
            _waiting.Enqueue(waiter, eventId);
            return waiter.Done.Task;
        }
    }

    private void Expire()
    {
        List<TaskCompletionSource> expired = [];
        lock (_gate)
        {
            var keep = new List<(Waiter, long)>(_waiting.Count);
            while (_waiting.TryDequeue(out var waiter, out var id))
            {
                if (waiter.Tick < _tick)
                {
                    expired.Add(waiter.Done);
                }
                else
                {
                    keep.Add((waiter, id));
                }
            }
            _waiting.EnqueueRange(keep);
            _tick++;
        }
        expired.ForEach(waiter => waiter.TrySetResult());
    }

    public void Dispose()
    {
        List<TaskCompletionSource> waiting = [];
        lock (_gate)
        {
            _disposed = true;
            while (_waiting.TryDequeue(out var waiter, out _))
            {
                waiting.Add(waiter.Done);
            }
        }
        _timer.Dispose();
        waiting.ForEach(waiter => waiter.TrySetResult());
    }

    private readonly record struct Waiter(TaskCompletionSource Done, long Tick);
}

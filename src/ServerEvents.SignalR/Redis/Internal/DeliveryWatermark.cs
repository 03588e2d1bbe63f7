namespace ServerEvents.Redis.Internal;

/// <summary>
/// The highest event id this server's pub/sub loop has handed to its local connections, and the publishers
/// waiting for it. Events come through pub/sub in id order, so once the mark reaches an id, that event — if
/// this server was subscribed to its target — has been queued for every local recipient. A publish with
/// local recipients waits for that, so the publisher is paced by its own server's delivery instead of
/// running ahead of it (which piles writes up until connections are closed as too slow).
/// </summary>
internal sealed class DeliveryWatermark
{
    private readonly PriorityQueue<TaskCompletionSource, long> _waiting = new();
    private readonly Lock _gate = new();
    private long _delivered;

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
                (done ??= []).Add(_waiting.Dequeue());
            }
        }
        done?.ForEach(waiter => waiter.TrySetResult());
    }

    /// <summary>Completes once <paramref name="eventId"/> was delivered locally, or after <paramref name="timeout"/> (an echo lost to a reconnect).</summary>
    public Task WaitAsync(long eventId, TimeSpan timeout)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (eventId <= _delivered)
            {
                return Task.CompletedTask;
            }
            _waiting.Enqueue(waiter, eventId);
        }
        return waiter.Task.WaitAsync(timeout).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}

using System.Collections.Concurrent;

namespace ServerEvents.Redis.Internal;

/// <summary>Requests sent to another server that wait for its acknowledgement, each with a timeout.</summary>
internal sealed class AckTracker
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private long _nextId;

    public (long Id, Task Acked) Create()
    {
        var id = Interlocked.Increment(ref _nextId);
        var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = ack;
        return (id, ack.Task);
    }

    public void Complete(long id)
    {
        if (_pending.TryRemove(id, out var ack))
        {
            ack.TrySetResult();
        }
    }

    public void Forget(long id) => _pending.TryRemove(id, out _);

    /// <summary>Waits for the acknowledgement; a <see cref="TimeoutException"/> with <paramref name="what"/> when none comes.</summary>
    public async Task WaitAsync(long id, Task acked, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        try
        {
            await acked.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what}: no acknowledgement within {timeout.TotalMilliseconds:0} ms.");
        }
        finally
        {
            Forget(id);
        }
    }
}

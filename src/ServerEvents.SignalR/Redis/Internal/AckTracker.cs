using System.Collections.Concurrent;

namespace ServerEvents.Redis.Internal;

/// <summary>Requests sent to another server that wait for its acknowledgement, each with a timeout.</summary>
internal sealed class AckTracker
{
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> _pending = new();
    private long _nextId;

    public (long Id, Task<bool> Acked) Create()
    {
        var id = Interlocked.Increment(ref _nextId);
        var ack = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = ack;
        return (id, ack.Task);
    }

    /// <param name="id">The request.</param>
    /// <param name="done">False when the other server no longer owned what the request was about.</param>
    public void Complete(long id, bool done)
    {
        if (_pending.TryRemove(id, out var ack))
        {
            ack.TrySetResult(done);
        }
    }

    /// <summary>
    /// Waits for the acknowledgement: whether it was done. A <see cref="TimeoutException"/> with <paramref name="what"/>
    /// when none comes.
    /// </summary>
    public async Task<bool> WaitAsync(long id, Task<bool> acked, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await acked.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what}: no acknowledgement within {timeout.TotalMilliseconds:0} ms.");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }
}

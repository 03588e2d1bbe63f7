using System.Collections.Concurrent;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>
/// Events go to Redis in batches: the notifies a server makes while its previous send script runs are sent together,
/// in the order they were made, by one script call (<see cref="EventScripts.SendBatch"/>) that writes one inbox message
/// per server for all of them. Under load that is one round trip and one inbox message per batch instead of per event;
/// alone, an event goes at once.
/// </summary>
internal sealed partial class RedisHubLifetimeManager<THub>
{
    private const int MaxBatch = 64;
    // Lock-free: a channel's lock was the most contended one on a busy publisher (many notifies queueing, one reader).
    private readonly ConcurrentQueue<OutgoingEvent> _outbox = new();
    // 1 while a sender runs; it stops when the queue is empty and the next event starts one again.
    private int _sending;

    /// <summary>Queues an event for the next batch; its id, or 0 when Redis could not be reached and it was buffered.</summary>
    private Task<long> SendEventAsync(OutgoingEvent outgoing, CancellationToken cancellationToken)
    {
        _outbox.Enqueue(outgoing);
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0)
        {
            // On the thread pool, with neither the caller's execution context nor its synchronization context: the sender
            // serves every later caller.
            ThreadPool.UnsafeQueueUserWorkItem(static manager => _ = manager.SendBatchesAsync(), this, preferLocal: false);
        }
        // Not cancelled with the caller: once queued it may be sent, as a script we stopped waiting for may still run.
        return outgoing.Sent.Task.WaitAsync(cancellationToken);
    }

    private async Task SendBatchesAsync()
    {
        var batch = new List<OutgoingEvent>(MaxBatch);
        while (true)
        {
            while (batch.Count < MaxBatch && _outbox.TryDequeue(out var next))
            {
                batch.Add(next);
            }
            if (batch.Count == 0)
            {
                // A full fence: the emptiness check below must not be read before this write is visible.
                Interlocked.Exchange(ref _sending, 0);
                // An event queued between the last dequeue and the line above saw a sender running and started none.
                if (_outbox.IsEmpty || Interlocked.CompareExchange(ref _sending, 1, 0) != 0)
                {
                    return;
                }
                continue;
            }
            try
            {
                _disposed.Token.ThrowIfCancellationRequested();
                await SendBatchAsync([.. batch]);
            }
            catch (OperationCanceledException)
            {
                // Shut down: nothing more goes out, and whatever is still queued (or queued later) is cancelled.
                batch.ForEach(outgoing => outgoing.Sent.TrySetCanceled());
            }
            catch (Exception ex)
            {
                // Not expected (SendBatchAsync answers its callers itself): they hear it, and the sender goes on.
                batch.ForEach(outgoing => outgoing.Sent.TrySetException(ex));
            }
            batch.Clear();
        }
    }

    private async Task SendBatchAsync(OutgoingEvent[] batch)
    {
        // Behind notifications already waiting for Redis (queued before this batch was taken), so as not to overtake them.
        if (_backplane.Buffer.Count > 0 && TryBufferBatch(batch, evenIfEmpty: false, cause: null))
        {
            return;
        }
        try
        {
            var ids = (long[])(await EventScripts.SendBatch.RunAsync(_backplane,
                [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, _keys.InboxSequences], BatchArguments(batch), _disposed.Token))!;
            if (ids.Length != batch.Length)
            {
                throw new InvalidOperationException($"The send script returned {ids.Length} ids for {batch.Length} events.");
            }
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i].Sent.TrySetResult(ids[i]);
            }
        }
        catch (Exception ex) when (RedisErrors.IsUnsent(ex) || (ex is RedisServerException server && RedisErrors.IsTransient(server)))
        {
            // None of them ran (Redis unreachable, or not able to run scripts yet): keep them, in order, for when it is back.
            TryBufferBatch(batch, evenIfEmpty: true, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Maybe run, maybe not: each caller hears so, as with a script of its own.
            foreach (var outgoing in batch)
            {
                outgoing.Sent.TrySetException(ex);
            }
        }
    }

    /// <summary>
    /// Queues a batch, in order, behind the notifications waiting for Redis (buffered ones answer 0; one the full buffer
    /// refuses gets its <see cref="RedisUnreachableException"/>); false, with nothing queued, when none wait and
    /// <paramref name="evenIfEmpty"/> is false.
    /// </summary>
    private bool TryBufferBatch(OutgoingEvent[] batch, bool evenIfEmpty, Exception? cause)
    {
        for (var i = 0; i < batch.Length; i++)
        {
            try
            {
                // After the first, the rest follow it whatever the buffer holds by then.
                if (!TryBuffer(batch[i].Routes, batch[i].Streams, batch[i].Body, evenIfEmpty: evenIfEmpty || i > 0, cause))
                {
                    return false;
                }
                batch[i].Sent.TrySetResult(0);
            }
            catch (RedisUnreachableException full)
            {
                batch[i].Sent.TrySetException(full);
            }
        }
        return true;
    }

    /// <summary>The send script's arguments: the settings, then for each event its body, routes and history streams.</summary>
    private RedisValue[] BatchArguments(OutgoingEvent[] batch)
    {
        var size = 5;
        foreach (var outgoing in batch)
        {
            size += 3 + outgoing.Routes.Length + outgoing.Streams.Length;
        }
        var args = new RedisValue[size];
        var n = 0;
        args[n++] = _keys.Prefix;
        args[n++] = _backplane.ChannelPrefix;
        args[n++] = _historyPerTarget;
        args[n++] = _historyMaxAgeMs;
        args[n++] = batch.Length;
        foreach (var outgoing in batch)
        {
            args[n++] = outgoing.Body;
            args[n++] = outgoing.Routes.Length;
            foreach (var route in outgoing.Routes)
            {
                args[n++] = route;
            }
            args[n++] = outgoing.Streams.Length;
            foreach (var stream in outgoing.Streams)
            {
                args[n++] = stream;
            }
        }
        return args;
    }

    /// <summary>An event on its way to Redis: where it goes, the history streams that keep it, its body, and its id once sent.</summary>
    private sealed record OutgoingEvent(string[] Routes, string[] Streams, byte[] Body)
    {
        // Completed by the sender: its callers' continuations must not run on it.
        public TaskCompletionSource<long> Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

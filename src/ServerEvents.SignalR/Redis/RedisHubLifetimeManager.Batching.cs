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
    private async Task<long> SendEventAsync(OutgoingEvent outgoing, CancellationToken cancellationToken)
    {
        _outbox.Enqueue(outgoing);
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0)
        {
            // Started on the caller's thread (an event on an idle server goes without a thread hop), but without the
            // caller's execution context: the sender serves every later caller.
            using (ExecutionContext.SuppressFlow())
            {
                _ = SendBatchesAsync();
            }
        }
        // Not cancelled with the caller: once queued it may be sent, as a script we stopped waiting for may still run.
        return await outgoing.Sent.Task.WaitAsync(cancellationToken);
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
                Volatile.Write(ref _sending, 0);
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
                await SendBatchAsync(batch);
            }
            catch (OperationCanceledException)
            {
                // Shutting down: nothing more goes out.
                while (_outbox.TryDequeue(out var left))
                {
                    batch.Add(left);
                }
                batch.ForEach(outgoing => outgoing.Sent.TrySetCanceled());
                return;
            }
            batch.Clear();
        }
    }

    private async Task SendBatchAsync(List<OutgoingEvent> batch)
    {
        var sent = batch.ToArray();
        try
        {
            var ids = (long[])(await EventScripts.SendBatch.RunAsync(_backplane,
                [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, _keys.InboxSequences], BatchArguments(sent), _disposed.Token))!;
            Settle(sent, i => sent[i].Sent.TrySetResult(ids[i]));
        }
        catch (Exception ex) when (RedisErrors.IsUnsent(ex) || (ex is RedisServerException server && RedisErrors.IsTransient(server)))
        {
            // None of them ran (Redis unreachable, or not able to run scripts yet): keep them, in order, for when it is back.
            var refused = new RedisUnreachableException?[sent.Length];
            for (var i = 0; i < sent.Length; i++)
            {
                try
                {
                    TryBuffer(sent[i].Routes, sent[i].Streams, sent[i].Body, evenIfEmpty: true, ex);
                }
                catch (RedisUnreachableException full)
                {
                    refused[i] = full;
                }
            }
            Settle(sent, i => _ = refused[i] is { } full ? sent[i].Sent.TrySetException(full) : sent[i].Sent.TrySetResult(0));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Maybe run, maybe not: each caller hears so, as with a script of its own.
            Settle(sent, i => sent[i].Sent.TrySetException(ex));
        }
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

    /// <summary>
    /// Completes every caller of a batch from one thread-pool work item: their continuations run there, one after the
    /// other, instead of one work item (and often one thread wake-up) each — and never on the batch loop, which sends on.
    /// </summary>
    private static void Settle(OutgoingEvent[] batch, Action<int> complete) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            for (var i = 0; i < state.Count; i++)
            {
                state.Complete(i);
            }
        }, (Count: batch.Length, Complete: complete), preferLocal: false);

    /// <summary>An event on its way to Redis: where it goes, the history streams that keep it, its body, and its id once sent.</summary>
    private sealed record OutgoingEvent(string[] Routes, string[] Streams, byte[] Body)
    {
        // Completed by Settle, off the batch loop: continuations run inline there.
        public TaskCompletionSource<long> Sent { get; } = new();
    }
}

using System.Threading.Channels;
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
    private readonly Channel<OutgoingEvent> _outbox = Channel.CreateUnbounded<OutgoingEvent>(new UnboundedChannelOptions { SingleReader = true });
    private int _sending;

    /// <summary>Queues an event for the next batch; its id, or 0 when Redis could not be reached and it was buffered.</summary>
    private async Task<long> SendEventAsync(OutgoingEvent outgoing, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _sending, 1) == 0)
        {
            _ = Task.Run(SendBatchesAsync, CancellationToken.None);
        }
        _outbox.Writer.TryWrite(outgoing);
        // Not cancelled with the caller: once queued it may be sent, as a script we stopped waiting for may still run.
        return await outgoing.Sent.Task.WaitAsync(cancellationToken);
    }

    private async Task SendBatchesAsync()
    {
        var reader = _outbox.Reader;
        var batch = new List<OutgoingEvent>(MaxBatch);
        try
        {
            while (await reader.WaitToReadAsync(_disposed.Token))
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var next))
                {
                    batch.Add(next);
                }
                await SendBatchAsync(batch);
                batch.Clear();
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var outgoing in batch)
            {
                outgoing.Sent.TrySetCanceled();
            }
        }
    }

    private async Task SendBatchAsync(List<OutgoingEvent> batch)
    {
        try
        {
            List<RedisValue> args = [_keys.Prefix, _backplane.ChannelPrefix, _historyPerTarget, _historyMaxAgeMs, batch.Count];
            foreach (var outgoing in batch)
            {
                args.Add(outgoing.Body);
                args.Add(outgoing.Routes.Length);
                args.AddRange(outgoing.Routes.Select(r => (RedisValue)r));
                args.Add(outgoing.Streams.Length);
                args.AddRange(outgoing.Streams.Select(s => (RedisValue)s));
            }
            var ids = (long[])(await EventScripts.SendBatch.RunAsync(_backplane,
                [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, _keys.InboxSequences], [.. args], _disposed.Token))!;
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Sent.TrySetResult(ids[i]);
            }
        }
        catch (Exception ex) when (RedisErrors.IsUnsent(ex) || (ex is RedisServerException server && RedisErrors.IsTransient(server)))
        {
            // None of them ran (Redis unreachable, or not able to run scripts yet): keep them, in order, for when it is back.
            foreach (var outgoing in batch)
            {
                try
                {
                    TryBuffer(outgoing.Routes, outgoing.Streams, outgoing.Body, evenIfEmpty: true, ex);
                    outgoing.Sent.TrySetResult(0);
                }
                catch (RedisUnreachableException full)
                {
                    outgoing.Sent.TrySetException(full);
                }
            }
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

    /// <summary>An event on its way to Redis: where it goes, the history streams that keep it, its body, and its id once sent.</summary>
    private sealed record OutgoingEvent(string[] Routes, string[] Streams, byte[] Body)
    {
        public TaskCompletionSource<long> Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

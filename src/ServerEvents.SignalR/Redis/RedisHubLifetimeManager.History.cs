using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using ServerEvents.History;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

internal sealed partial class RedisHubLifetimeManager<THub> : IReplaysHistory
{
    // Streams per history read: a back-fill after a reconnect reads every local connection's targets.
    private const int TargetsPerRead = 200;
    private readonly Lock _backfillGate = new();
    // Connections held since the pub/sub connection was lost, each with the mark it resumes after.
    private readonly Dictionary<LocalConnection, long> _awaitingBackfill = [];
    private int _losses;
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _probes = new();
    private long _lastProbe;
    private int _recovering;
    private readonly Lock _inboxGate = new();
    // Completed while the inbox is read; a new, pending one from a loss until the recovery's probe came through.
    private TaskCompletionSource _inboxRead = Read();

    /// <inheritdoc />
    public async Task<Replay> JoinAndReplayAsync(string connectionId, IReadOnlyList<string> groups, long lastEventId, CancellationToken cancellationToken)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection '{connectionId}' is not on this server.");
        }
        // Hold, join, then read: every event is then either in the history read (published before it) or among
        // the held live ones (after the join), and the overlap is dropped by id when the hold ends.
        lock (_backfillGate)
        {
            local.Resuming = true;
        }
        local.Hold();
        var replay = Replay.Nothing;
        var clientHas = 0L;
        try
        {
            foreach (var group in groups)
            {
                await ChangeLocalGroupAsync(local, group, add: true);
            }
            string[] targets = [.. groups.Append(GroupNames.All).Distinct(StringComparer.Ordinal)];
            // Without history only the counter is read: nothing is known of what the client missed.
            var history = await ReadHistoryAsync(_historyPerTarget > 0 ? targets : [], lastEventId, cancellationToken);
            replay = _historyPerTarget > 0 ? history.For(targets) : WithoutHistory(lastEventId, history);
            // An id Redis issued: the client has what came before it, and any copy of that is dropped.
            clientHas = lastEventId <= history.Current ? lastEventId : 0;
        }
        finally
        {
            local.Release(Messages(replay.Events), ResetMessage(lastEventId, replay, ResetNotice.TooOld), clientHas);
            bool backfillWaits;
            lock (_backfillGate)
            {
                local.Resuming = false;
                backfillWaits = _awaitingBackfill.ContainsKey(local);
            }
            // A back-fill passed over it while it resumed (its replay would have cut this one short): run it now.
            if (backfillWaits && _backplane.InboxLive)
            {
                _ = Task.Run(OnPubSubBackAsync, CancellationToken.None);
            }
        }
        return replay;
    }

    /// <summary>
    /// Redis data loss seen by housekeeping (this server's liveness key was gone): routes may be gone too, so what is
    /// sent may no longer reach this server. Handled as a lost inbox: hold, write the routes again, probe, back-fill.
    /// </summary>
    internal void OnRedisDataLost() => InboxLost();

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            InboxLost();
        }
    }

    /// <summary>
    /// What is sent to this server's inbox may not be arriving (its connection failed) or did not arrive (a gap in its
    /// sequence): hold every local connection and recover in the background.
    /// </summary>
    private void InboxLost()
    {
        lock (_inboxGate)
        {
            _backplane.InboxLive = false;
            if (_inboxRead.Task.IsCompleted)
            {
                _inboxRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        OnPubSubLost();
        if (Interlocked.Exchange(ref _recovering, 1) == 0)
        {
            _ = Task.Run(RecoverAsync);
        }
    }

    /// <summary>
    /// Until this server reads its inbox again: writes its routes again (Redis may have lost them), sends itself a probe
    /// and waits for it — once it arrives, everything sent from then on arrives too — then back-fills the held connections.
    /// </summary>
    private async Task RecoverAsync()
    {
        var delay = DrainRetryDelay;
        while (!_disposed.IsCancellationRequested)
        {
            var losses = Volatile.Read(ref _losses);
            try
            {
                await RestoreRoutesAsync(_disposed.Token);
                if (await ProbeAsync(_disposed.Token) && losses == Volatile.Read(ref _losses))
                {
                    TaskCompletionSource read;
                    lock (_inboxGate)
                    {
                        _backplane.InboxLive = true;
                        read = _inboxRead;
                    }
                    read.TrySetResult();
                    Volatile.Write(ref _recovering, 0);
                    // Lost again after the probe: whoever saw that found the recovery still running; take it over.
                    if (losses != Volatile.Read(ref _losses) && Interlocked.Exchange(ref _recovering, 1) == 0)
                    {
                        continue;
                    }
                    await OnPubSubBackAsync();
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (RedisErrors.IsRedisFailure(ex))
            {
                RedisLog.BackFillFailed(_logger, ex.Message);
            }
            try
            {
                await Task.Delay(delay, _disposed.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }

    /// <summary>Waits until this server reads its inbox (at most the ack timeout); throws an unsent connection error if it does not.</summary>
    private async Task InboxReadAsync(string joining)
    {
        Task read;
        lock (_inboxGate)
        {
            read = _inboxRead.Task;
        }
        if (read.IsCompleted)
        {
            return;
        }
        try
        {
            await read.WaitAsync(_backplane.Options.AckTimeout);
        }
        catch (TimeoutException)
        {
            throw new RedisUnreachableException($"Cannot join '{joining}': this server's inbox at Redis {_backplane.EndPoint} is not being read (connection lost).");
        }
    }

    private static TaskCompletionSource Read()
    {
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        read.SetResult();
        return read;
    }

    /// <summary>Sends this server a probe through its inbox; true once it arrived (within a second).</summary>
    private async Task<bool> ProbeAsync(CancellationToken cancellationToken)
    {
        var nonce = Interlocked.Increment(ref _lastProbe);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probes[nonce] = arrived;
        try
        {
            if (await SendToAsync(Routes.Server(_serverId), BackplaneProtocol.WriteProbe(nonce), cancellationToken) == 0)
            {
                return false;
            }
            await arrived.Task.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            _probes.TryRemove(nonce, out _);
        }
    }

    private void ProbeArrived(long nonce)
    {
        if (_probes.TryGetValue(nonce, out var arrived))
        {
            arrived.TrySetResult();
        }
    }

    /// <summary>
    /// The inbox is not read (or missed messages): what is sent from now until it is read again does not reach
    /// this server. Every local connection is held from here, and resumes after the highest id this server delivered;
    /// client result calls waiting for another server's answer fail.
    /// </summary>
    private void OnPubSubLost()
    {
        FailRemoteClientResults();
        lock (_backfillGate)
        {
            _losses++;
            var held = new List<(LocalConnection Connection, long Queued)>();
            foreach (var connection in _connections.Values)
            {
                if (!_awaitingBackfill.ContainsKey(connection))
                {
                    held.Add((connection, connection.Hold()));
                }
            }
            // Read after holding: an event delivered up to the mark was either written before the hold or is held;
            // any later one is read from the history. A connection may have been queued further than the mark by
            // its own resume (from history): it resumes after that.
            var mark = _delivered.Current;
            foreach (var (connection, queued) in held)
            {
                _awaitingBackfill[connection] = Math.Max(mark, queued);
            }
            _backplane.AwaitingBackfill = _awaitingBackfill.Count;
        }
    }

    /// <summary>
    /// The inbox is read again (a probe came through), so every new event arrives live (and is held): replays to each held connection
    /// what it missed meanwhile, from the shared history, merged with the held events — or tells it to reset when the
    /// history does not reach back (Redis lost its data, or trimmed it). Retries while Redis does not answer (the
    /// command connection may come back later than pub/sub) and stops when pub/sub is lost again: the next
    /// reconnect starts over.
    /// </summary>
    private async Task OnPubSubBackAsync()
    {
        var delay = DrainRetryDelay;
        while (!_disposed.IsCancellationRequested && _backplane.InboxLive)
        {
            try
            {
                if (await BackfillAsync())
                {
                    return;
                }
            }
            catch (Exception ex) when (RedisErrors.IsRedisFailure(ex) || ex is FormatException)
            {
                RedisLog.BackFillFailed(_logger, ex.Message);
                try
                {
                    await Task.Delay(delay, _disposed.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    /// <summary>One pass over the held connections; true when none is left, false when pub/sub was lost meanwhile.</summary>
    private async Task<bool> BackfillAsync()
    {
        int losses;
        List<KeyValuePair<LocalConnection, long>> pending;
        lock (_backfillGate)
        {
            losses = _losses;
            pending = [.. _awaitingBackfill];
        }
        int replayed = 0, resets = 0, released = 0;
        foreach (var batch in pending.GroupBy(p => p.Value))
        {
            var connections = batch.Select(p => (Connection: p.Key, Targets: (string[])[.. p.Key.Groups.Append(GroupNames.All).Distinct(StringComparer.Ordinal)])).ToList();
            // Without history only the counter is read, for the reset's id.
            var targets = _historyPerTarget > 0 ? connections.SelectMany(c => c.Targets).Distinct(StringComparer.Ordinal).ToList() : [];
            var history = await ReadHistoryAsync(targets, batch.Key, _disposed.Token);
            foreach (var (connection, wanted) in connections)
            {
                var replay = _historyPerTarget > 0 ? history.For(wanted) : WithoutHistory(batch.Key, history);
                lock (_backfillGate)
                {
                    // Lost again meanwhile: this read may predate the new gap; the next reconnect reads again.
                    if (_losses != losses)
                    {
                        return false;
                    }
                    // Another pass (a quicker reconnect) released it already; or it is resuming, and releasing
                    // this first would cut its replay short: it runs the back-fill again when done.
                    if (connection.Resuming || !_awaitingBackfill.Remove(connection))
                    {
                        continue;
                    }
                    _backplane.AwaitingBackfill = _awaitingBackfill.Count;
                    connection.Release(Messages(replay.Events), ResetMessage(batch.Key, replay, ResetNotice.CutOff));
                    replayed += replay.Events.Count;
                    resets += replay.Complete ? 0 : 1;
                    released++;
                }
            }
        }
        if (released > 0)
        {
            RedisLog.BackFilled(_logger, released, replayed, resets);
        }
        return true;
    }

    private async Task<StoredHistory> ReadHistoryAsync(IReadOnlyList<string> targets, long lastEventId, CancellationToken cancellationToken)
    {
        var history = new StoredHistory(lastEventId);
        var from = (lastEventId + 1).ToString(CultureInfo.InvariantCulture) + "-0";
        foreach (var batch in targets.Chunk(TargetsPerRead).DefaultIfEmpty([]))
        {
            var reply = await EventScripts.ReadHistory.RunAsync(_backplane.Database,
                [_keys.HistoryFloor, _keys.EventSequence, _keys.HistoryClock, .. batch.Select(_keys.History)],
                [from, _historyMaxAgeMs], cancellationToken);
            history.Add(reply, batch, ParseEvent);
        }
        return history;
    }

    /// <summary>Without history nothing can be replayed: a reset, unless no event was published since.</summary>
    private static Replay WithoutHistory(long lastEventId, StoredHistory history) =>
        history.Current == lastEventId ? Replay.Nothing : Replay.Reset(history.Current);

    /// <summary>Forgets a closed connection that was waiting for its back-fill.</summary>
    private void ForgetBackfill(LocalConnection connection)
    {
        lock (_backfillGate)
        {
            if (_awaitingBackfill.Remove(connection))
            {
                _backplane.AwaitingBackfill = _awaitingBackfill.Count;
            }
        }
    }

    private static (long EventId, SerializedHubMessage Message)? ResetMessage(long lastEventId, Replay replay, string reason) =>
        replay.ResetThrough is { } through ? (through, EventMessage(ResetNotice.Create(lastEventId, through, reason))) : null;

    private static List<(long EventId, SerializedHubMessage Message)> Messages(IReadOnlyList<ServerEvent> events) =>
        [.. events.Select(e => (e.EventId, EventMessage(e)))];

    private ServerEvent? ParseEvent(ReadOnlyMemory<byte> message)
    {
        try
        {
            return BackplaneProtocol.TryReadEvent(message.Span, out var serverEvent, out _, out _) ? serverEvent : null;
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
            return null;
        }
    }
}

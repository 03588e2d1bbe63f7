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

    /// <inheritdoc />
    public async Task JoinFromNowAsync(string connectionId, IReadOnlyList<string> groups, Func<long, ServerEvent> onConnect, CancellationToken cancellationToken)
    {
        var local = BeginJoin(connectionId);
        var current = 0L;
        (long, SerializedHubMessage)? first = null;
        try
        {
            foreach (var group in groups)
            {
                await ChangeLocalGroupAsync(local, group, add: true);
            }
            // Read after the joins: an event stamped later found this server's routes and the connection in its local
            // groups, so it is among the held ones; one stamped up to here was published before the connection joined.
            current = (await ReadHistoryAsync([], 0, cancellationToken)).Current;
            first = (current, EventMessage(onConnect(current)));
        }
        finally
        {
            local.Release([], clientHas: current, first: first);
            EndJoin(local);
            _backplane.Metrics.Delivered(first is null ? 0 : 1);
        }
    }

    /// <inheritdoc />
    public async Task<Replay> JoinAndReplayAsync(string connectionId, IReadOnlyList<string> groups, long lastEventId, CancellationToken cancellationToken)
    {
        // Hold, join, then read: every event is then either in the history read (published before it) or among
        // the held live ones (after the join), and the overlap is dropped by id when the hold ends.
        var local = BeginJoin(connectionId);
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
            EndJoin(local);
            // Written to the connection, as on the memory back-end (live events were counted as they were queued).
            _backplane.Metrics.Delivered(replay.Events.Count + (replay.Complete ? 0 : 1));
        }
        return replay;
    }

    /// <summary>Holds a connection of this server while it joins; a back-fill passes over it until <see cref="EndJoin"/>.</summary>
    private LocalConnection BeginJoin(string connectionId)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection '{connectionId}' is not on this server.");
        }
        lock (_backfillGate)
        {
            local.Resuming = true;
        }
        local.Hold();
        return local;
    }

    /// <summary>After the join's hold was released: runs a back-fill that passed over the connection meanwhile.</summary>
    private void EndJoin(LocalConnection local)
    {
        bool backfillWaits;
        lock (_backfillGate)
        {
            local.Resuming = false;
            backfillWaits = _awaitingBackfill.ContainsKey(local);
        }
        // Its replay would have been cut short by the join's release: run it now.
        if (backfillWaits && _backplane.InboxLive)
        {
            _ = Task.Run(OnPubSubBackAsync, CancellationToken.None);
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
                if (await BackOffAsync(delay) is not { } next)
                {
                    return;
                }
                delay = next;
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
        var serialized = new Dictionary<long, SerializedHubMessage>();
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
                    connection.Release(Messages(replay.Events, serialized), ResetMessage(batch.Key, replay, ResetNotice.CutOff));
                    _backplane.Metrics.Replayed(replay, "cut_off");
                    _backplane.Metrics.Delivered(replay.Events.Count + (replay.Complete ? 0 : 1));
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
        // An id at the very top of the range (a client's made-up one) reads nothing rather than overflowing.
        var from = (Math.Min(lastEventId, long.MaxValue - 1) + 1).ToString(CultureInfo.InvariantCulture) + "-0";
        foreach (var batch in targets.Chunk(TargetsPerRead).DefaultIfEmpty([]))
        {
            var reply = await EventScripts.ReadHistory.RunAsync(_backplane,
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

    /// <param name="events">Events in id order.</param>
    /// <param name="serialized">Messages already made in this pass: one per event, shared by every connection replaying it
    /// (SignalR serializes a message once per protocol, however many connections it is written to).</param>
    private static List<(long EventId, SerializedHubMessage Message)> Messages(IReadOnlyList<ServerEvent> events, Dictionary<long, SerializedHubMessage>? serialized = null) =>
        [.. events.Select(e => (e.EventId, serialized is null ? EventMessage(e) : Shared(e, serialized)))];

    private static SerializedHubMessage Shared(ServerEvent serverEvent, Dictionary<long, SerializedHubMessage> serialized)
    {
        if (!serialized.TryGetValue(serverEvent.EventId, out var message))
        {
            serialized[serverEvent.EventId] = message = EventMessage(serverEvent);
        }
        return message;
    }

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

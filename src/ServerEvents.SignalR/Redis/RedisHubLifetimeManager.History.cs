using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using ServerEvents.History;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using ServerEvents.Resp;

namespace ServerEvents.Redis;

internal sealed partial class RedisHubLifetimeManager<THub> : IReplaysHistory
{
    /// <inheritdoc />
    public async Task<Replay> JoinAndReplayAsync(string connectionId, IReadOnlyList<string> groups, long lastEventId, CancellationToken cancellationToken)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection '{connectionId}' is not on this server.");
        }
        // Hold, join, then read: every event is then either in the history read (published before it) or among
        // the held live ones (after the join), and the overlap is dropped by id when the hold ends.
        local.Hold();
        var replay = Replay.Nothing;
        try
        {
            foreach (var group in groups)
            {
                await ChangeLocalGroupAsync(local, group, add: true);
            }
            replay = await ReadHistoryAsync([.. groups, GroupNames.All], lastEventId, cancellationToken);
        }
        finally
        {
            local.Release([.. replay.Events.Select(e => (e.EventId, EventMessage(e)))]);
        }
        return replay;
    }

    private async Task<Replay> ReadHistoryAsync(IReadOnlyList<string> targets, long lastEventId, CancellationToken cancellationToken)
    {
        var from = (lastEventId + 1).ToString(CultureInfo.InvariantCulture) + "-0";
        var reply = await ReadHistory.RunAsync(_backplane.Commands, [_keys.HistoryFloor, _keys.EventSequence, .. targets.Select(_keys.History)], [from], cancellationToken);
        var parts = reply.Items!;
        // Ids before the floor are from before the counter (and every history) started, ids above the counter were
        // never issued by it (Redis lost its data since): nothing is known of what followed them.
        if (!long.TryParse(parts[0].AsString(), CultureInfo.InvariantCulture, out var floor) || lastEventId + 1 < floor
            || !long.TryParse(parts[1].AsString(), CultureInfo.InvariantCulture, out var current) || lastEventId > current)
        {
            return Replay.Reset;
        }
        var events = new SortedDictionary<long, ServerEvent>();
        for (var i = 2; i + 3 < parts.Length; i += 4)
        {
            var added = parts[i].Integer;
            var kept = parts[i + 1].Integer;
            // Trimmed entries all precede the first kept one; a client whose last id is before that may have missed some.
            if (added > kept && EntryEventId(parts[i + 2].AsString()) is { } first && lastEventId + 1 < first)
            {
                return Replay.Reset;
            }
            foreach (var message in parts[i + 3].Items!)
            {
                if (ParseEvent(message.Bytes) is { } serverEvent)
                {
                    events.TryAdd(serverEvent.EventId, serverEvent);
                }
            }
        }
        return new Replay([.. events.Values], Complete: true);
    }

    private static long? EntryEventId(string? entryId) =>
        entryId is { Length: > 0 } && long.TryParse(entryId.AsSpan(0, entryId.IndexOf('-', StringComparison.Ordinal)), CultureInfo.InvariantCulture, out var id) ? id : null;

    private ServerEvent? ParseEvent(ReadOnlyMemory<byte> message)
    {
        try
        {
            return BackplaneProtocol.TryReadEvent(message.Span, out var serverEvent, out _) ? serverEvent : null;
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
            return null;
        }
    }
}

using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using ServerEvents.Resp;

namespace ServerEvents.Redis;

internal sealed partial class RedisHubLifetimeManager<THub>
{
    private static readonly long UnixEpochTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>
    /// Publishes once per Redis channel. Server Events envelopes reach every recipient — this server's own
    /// included — through the pub/sub stream: Redis runs the publish scripts one at a time, so every server
    /// receives every event in id order, wherever it was published. Other invocations are written to this
    /// server's recipients directly (SignalR promises no order across servers for them).
    /// </summary>
    /// <param name="channels">Redis channels to publish to.</param>
    /// <param name="localTargets">This server's recipients, for invocations written directly.</param>
    /// <param name="localChannels">Channels of this server's own recipients that <paramref name="channels"/> leaves out
    /// (connection-targeted sends): envelopes are published to them too, to keep the one order.</param>
    /// <param name="historyTargets">Groups (or <see cref="GroupNames.All"/>) whose history keeps the envelope.</param>
    /// <param name="excluded">Connection ids that must not receive the message.</param>
    /// <param name="methodName">The client method.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Stops waiting for Redis.</param>
    private async Task PublishAsync(IReadOnlyList<string> channels, IEnumerable<LocalConnection> localTargets, IReadOnlyList<string> localChannels, IReadOnlyList<string> historyTargets, IReadOnlyList<string>? excluded, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(methodName);
        await EnsureStartedAsync(cancellationToken);
        if (methodName == ServerEventsHubBase.ClientMethod && args is [ServerEvent { EventId: 0 } serverEvent])
        {
            var body = BackplaneProtocol.WriteEventBody(_serverId, excluded, serverEvent.Channel, serverEvent.Selector, serverEvent.Json);
            string[] publishTo = [.. channels, .. localChannels];
            string[] streams = _historyPerTarget > 0 ? [.. historyTargets.Select(_keys.History)] : [];
            // Behind notifications still waiting for Redis, so as not to overtake them.
            if (_backplane.Buffer.Count > 0 && TryBuffer(publishTo, streams, body, evenIfEmpty: false, null))
            {
                return;
            }
            long eventId;
            try
            {
                eventId = await RunPublishAsync(publishTo, streams, body, token: null, cancellationToken);
            }
            catch (RedisConnectionException ex) when (ex.Unsent)
            {
                // Redis is unreachable and this one never reached it: keep it for when Redis is back.
                TryBuffer(publishTo, streams, body, evenIfEmpty: true, ex);
                return;
            }
            catch (RedisServerException ex) when (ex.IsTransient)
            {
                // Redis answered that it cannot run scripts yet (loading, failing over): it did not run either.
                TryBuffer(publishTo, streams, body, evenIfEmpty: true, new RedisConnectionException(ex.Message, ex, unsent: true));
                return;
            }
            // Done once this server has queued it for its own recipients too (see DeliveryWatermark) — unless its
            // pub/sub connection is down: then the back-fill delivers it, and waiting would only stall the caller.
            if ((localChannels.Count > 0 || localTargets.Any()) && _backplane.Subscriber.IsConnected)
            {
                await _delivered.WaitAsync(eventId, _backplane.Options.AckTimeout);
            }
            return;
        }
        var invocation = new InvocationMessage(methodName, args);
        if (channels.Count == 0 && methodName == ServerEventsHubBase.ClientMethod && args is [ServerEvent { EventId: > 0 }])
        {
            // A resuming connection's onConnect, under the id it resumes after (EventDelivery.ToResumingConnectionAsync):
            // ahead of anything held for it.
            WriteLocal(localTargets, excluded, new SerializedHubMessage(invocation), direct: true);
            return;
        }
        if (channels.Count == 0)
        {
            // Local only: SignalR serializes lazily, for the protocols these connections actually use.
            WriteLocal(localTargets, excluded, new SerializedHubMessage(invocation));
            return;
        }
        var serialized = _protocols.AllProtocols.Select(p => (p.Name, p.GetMessageBytes(invocation))).ToList();
        var payload = BackplaneProtocol.WriteInvocation(_serverId, excluded, serialized);
        await Task.WhenAll(channels.Select(channel => PublishRawAsync(channel, payload, cancellationToken)));
        WriteLocal(localTargets, excluded, new SerializedHubMessage([.. serialized.Select(s => new SerializedMessage(s.Name, s.Item2))]));
    }

    /// <summary>Runs the publish script: the event's id, its messages, its history entries, in one round trip.</summary>
    private async Task<long> RunPublishAsync(string[] channels, string[] streams, byte[] body, string? token, CancellationToken cancellationToken)
    {
        string[] keys = token is null
            ? [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, .. channels, .. streams]
            : [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, token, .. channels, .. streams];
        var reply = await EventScripts.Publish.RunAsync(_backplane.Commands, keys,
            [CounterStart(), body, (long)channels.Length, (long)_historyPerTarget, _historyMaxAgeMs, token is null ? "0" : "1"], cancellationToken);
        return reply.Integer;
    }

    /// <summary>Where the id counter starts if Redis has none: now, in µs.</summary>
    private static string CounterStart() => ((DateTime.UtcNow.Ticks - UnixEpochTicks) / 10).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Queues a notification behind those waiting for Redis (or, with <paramref name="evenIfEmpty"/>, as the first one);
    /// false when none wait. A full buffer refuses it with <paramref name="cause"/>'s error, marked unsent.
    /// </summary>
    private bool TryBuffer(string[] channels, string[] streams, byte[] body, bool evenIfEmpty, RedisConnectionException? cause)
    {
        var buffer = _backplane.Buffer;
        switch (buffer.TryAdd(sequence => new BufferedNotification(channels, streams, body, _keys.PublishToken(_serverId, sequence)), evenIfEmpty))
        {
            case BufferResult.Skipped:
                return false;
            case BufferResult.QueuedFirst:
                RedisLog.Buffering(_logger, buffer.Capacity);
                _ = Task.Run(DrainBufferAsync);
                return true;
            case BufferResult.Queued:
                return true;
            default:
                throw buffer.Capacity == 0 && cause is not null
                    ? cause
                    : new RedisConnectionException(
                        $"Redis at {_backplane.Options.Connection.EndPoint} is unreachable and {buffer.Capacity} notifications already wait for it " +
                        "(RedisBackplaneOptions.MaxBufferedNotifications): this one was not sent.", cause, unsent: true);
        }
    }

    /// <summary>Publishes the buffered notifications in order, each once (its token), as soon as Redis answers again.</summary>
    private async Task DrainBufferAsync()
    {
        var buffer = _backplane.Buffer;
        long published = 0;
        try
        {
            while (buffer.TryPeek(out var next))
            {
                try
                {
                    if (!_backplane.Commands.IsConnected)
                    {
                        await Task.Delay(DrainRetryDelay, _disposed.Token);
                        continue;
                    }
                    await RunPublishAsync(next.Channels, next.Streams, next.Body, next.Token, _disposed.Token);
                    published++;
                }
                catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
                {
                    // Maybe run, maybe not: the token makes the retry safe either way.
                    await Task.Delay(DrainRetryDelay, _disposed.Token);
                    continue;
                }
                catch (RedisServerException ex) when (ex.IsTransient)
                {
                    // Loading its data after a restart, a replica not yet promoted…: it did not run; retry.
                    await Task.Delay(DrainRetryDelay, _disposed.Token);
                    continue;
                }
                catch (RedisServerException ex)
                {
                    // Redis refused it (out of memory, say): retrying cannot help, and it would hold up the rest.
                    RedisLog.BufferedRefused(_logger, ex.Message);
                }
                if (buffer.RemoveHead())
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        RedisLog.BufferDrained(_logger, published);
    }

    private async Task<long> PublishRawAsync(string channel, byte[] payload, CancellationToken cancellationToken) =>
        (await _backplane.Commands.ExecuteAsync(RespCommand.Create("PUBLISH", channel, payload), cancellationToken)).Integer;

    private static SerializedHubMessage EventMessage(ServerEvent serverEvent) =>
        new(new InvocationMessage(ServerEventsHubBase.ClientMethod, [serverEvent]));

    private void WriteLocal(IEnumerable<LocalConnection> targets, IReadOnlyList<string>? excluded, SerializedHubMessage message, long eventId = 0, bool direct = false)
    {
        var max = _backplane.Options.MaxPendingWritesPerConnection;
        foreach (var connection in targets)
        {
            if (excluded is { Count: > 0 } && excluded.Contains(connection.Id, StringComparer.Ordinal))
            {
                continue;
            }
            if (!connection.TryWrite(message, max, eventId, direct))
            {
                RedisLog.SlowConnectionClosed(_logger, connection.Id, max);
            }
        }
    }

    /// <summary>Delivers a received event (whoever published it) or another server's invocation to local recipients.</summary>
    private void Deliver(ReadOnlyMemory<byte> payload, IEnumerable<LocalConnection> targets, bool direct)
    {
        try
        {
            var span = payload.Span;
            // Our own events come back this way too, in id order with everyone else's.
            if (BackplaneProtocol.TryReadEvent(span, out var serverEvent, out var excluded))
            {
                // Marked before the writes: a back-fill that reads the mark after holding the connections then
                // finds each write of this event either done before the hold or held (see OnPubSubLost).
                _delivered.Delivered(serverEvent.EventId);
                WriteLocal(targets, excluded, EventMessage(serverEvent), serverEvent.EventId, direct);
                return;
            }
            var invocation = new BackplaneProtocol.Reader(span);
            if (invocation.Kind() != BackplaneProtocol.Invocation || invocation.String() == _serverId)
            {
                return;
            }
            var except = invocation.Strings();
            WriteLocal(targets, except, invocation.Serialized());
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
        }
    }

    private void OnGroupMessage(string group, ReadOnlyMemory<byte> payload) => Deliver(payload, _groups.Members(group), direct: false);

    private void OnUserMessage(string user, ReadOnlyMemory<byte> payload) => Deliver(payload, _users.Members(user), direct: false);

    /// <summary>What came on the channel of a connection of this server (subscribed from before it was listed until Redis confirmed it left).</summary>
    private void OnConnectionMessage(LocalConnection local, ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return;
        }
        var connectionId = local.Id;
        var kind = payload.Span[0];
        try
        {
            if (kind == BackplaneProtocol.Group)
            {
                var reader = new BackplaneProtocol.Reader(payload.Span);
                reader.Kind();
                var origin = reader.String();
                var requestId = reader.VarInt();
                var add = reader.VarInt() == 1;
                var group = reader.String();
                // Off the read loop: joining may subscribe a new channel, which waits for Redis.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await ChangeLocalGroupAsync(local, group, add);
                        await PublishRawAsync(_keys.Ack(origin), BackplaneProtocol.WriteAck(requestId), CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
                    {
                        RedisLog.RemoteGroupChangeFailed(_logger, connectionId, group, ex);
                    }
                });
            }
            else if (kind == BackplaneProtocol.Close)
            {
                local.Context.Abort();
            }
            else if (kind == BackplaneProtocol.ClientInvocation)
            {
                if (local.Departed)
                {
                    // Published while it was leaving: the call waiting for its result must hear so, or it waits for ever.
                    AnswerConnectionGone(connectionId, payload.Span);
                }
                else
                {
                    RelayClientInvocation(local, payload.Span);
                }
            }
            else
            {
                // Read even for a departed connection: an event marks what this server has delivered.
                Deliver(payload, local.Departed ? [] : [local], direct: true);
            }
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
        }
    }

    private void OnControlMessage(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new BackplaneProtocol.Reader(payload.Span);
            if (reader.Kind() == BackplaneProtocol.CloseAll && reader.String() != _serverId)
            {
                AbortAllLocal();
            }
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
        }
    }

    private void OnAckMessage(ReadOnlyMemory<byte> payload)
    {
        try
        {
            var reader = new BackplaneProtocol.Reader(payload.Span);
            var kind = reader.Kind();
            if (kind == BackplaneProtocol.Ack)
            {
                _acks.Complete(reader.VarInt());
            }
            else if (kind == BackplaneProtocol.ClientResult)
            {
                CompleteRelayedResult(payload.Span);
            }
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
        }
    }
}

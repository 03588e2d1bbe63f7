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
            // Where the id counter starts if Redis has none: now, in µs.
            var start = ((DateTime.UtcNow.Ticks - UnixEpochTicks) / 10).ToString(CultureInfo.InvariantCulture);
            var history = _historyPerTarget > 0 ? historyTargets.Select(_keys.History) : [];
            var reply = await PublishEvent.RunAsync(_backplane.Commands, [_keys.EventSequence, _keys.HistoryFloor, .. channels, .. localChannels, .. history],
                [start, body, (long)(channels.Count + localChannels.Count), (long)_historyPerTarget], cancellationToken);
            if (localChannels.Count > 0 || localTargets.Any())
            {
                // Done once this server has queued it for its own recipients too (see DeliveryWatermark).
                await _delivered.WaitAsync(reply.Integer, _backplane.Options.AckTimeout);
            }
            return;
        }
        var invocation = new InvocationMessage(methodName, args);
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
                WriteLocal(targets, excluded, EventMessage(serverEvent), serverEvent.EventId, direct);
                _delivered.Delivered(serverEvent.EventId);
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

    private void OnConnectionMessage(string connectionId, ReadOnlyMemory<byte> payload)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            return;
        }
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
                RelayClientInvocation(local, payload.Span);
            }
            else
            {
                Deliver(payload, [local], direct: true);
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

using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

internal sealed partial class RedisHubLifetimeManager<THub>
{
    // Read only by the inbox loop, one message at a time.
    private long _lastInboxSequence = -1;

    /// <summary>
    /// Sends through the inboxes. A Server Events envelope without an id gets one from the send script, which also
    /// publishes it to every server with recipients and adds it to the targets' history (one round trip); every
    /// recipient — this server's too — gets it from its inbox, so all see one order. Other invocations go to the other
    /// servers and are written to this server's recipients directly (SignalR promises no order across servers for them).
    /// </summary>
    /// <param name="eventRoutes">Where an envelope goes (<see cref="Routes"/>), this server included.</param>
    /// <param name="invocationRoutes">Where another invocation goes; this server is left out of it anyway.</param>
    /// <param name="targets">Who receives it on each server.</param>
    /// <param name="localTargets">This server's recipients, for invocations written directly.</param>
    /// <param name="historyTargets">Groups (or <see cref="GroupNames.All"/>) whose history keeps the envelope.</param>
    /// <param name="excluded">Connection ids that must not receive the message.</param>
    /// <param name="methodName">The client method.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="cancellationToken">Stops waiting for Redis.</param>
    private Task PublishAsync(string[] eventRoutes, IReadOnlyList<string> invocationRoutes, Targets targets, IEnumerable<LocalConnection> localTargets,
        IReadOnlyList<string> historyTargets, IReadOnlyList<string>? excluded, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        // Once started, a new envelope (nearly every send) goes straight to its path, without a state machine here.
        if (Volatile.Read(ref _started) && NewEnvelope(methodName, args) is { } serverEvent)
        {
            return PublishEventAsync(eventRoutes, targets, localTargets, historyTargets, excluded, serverEvent, cancellationToken);
        }
        return StartThenPublishAsync(eventRoutes, invocationRoutes, targets, localTargets, historyTargets, excluded, methodName, args, cancellationToken);
    }

    /// <summary>The Server Events envelope that is a new event (no id yet, so it takes the event path), or null.</summary>
    private static ServerEvent? NewEnvelope(string methodName, object?[] args) =>
        methodName == ServerEventsHubBase.ClientMethod && args is [ServerEvent { EventId: 0 } serverEvent] ? serverEvent : null;

    private async Task StartThenPublishAsync(string[] eventRoutes, IReadOnlyList<string> invocationRoutes, Targets targets, IEnumerable<LocalConnection> localTargets,
        IReadOnlyList<string> historyTargets, IReadOnlyList<string>? excluded, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(methodName);
        await EnsureStartedAsync(cancellationToken);
        if (NewEnvelope(methodName, args) is { } serverEvent)
        {
            await PublishEventAsync(eventRoutes, targets, localTargets, historyTargets, excluded, serverEvent, cancellationToken);
            return;
        }
        var invocation = new InvocationMessage(methodName, args);
        if (invocationRoutes.Count == 0 && methodName == ServerEventsHubBase.ClientMethod && args is [ServerEvent { EventId: > 0 }])
        {
            // A resuming connection's onConnect, under the id it resumes after (EventDelivery.ConnectAsync):
            // ahead of anything held for it.
            WriteLocal(localTargets, excluded, new SerializedHubMessage(invocation), direct: true);
            return;
        }
        if (invocationRoutes.Count == 0)
        {
            // Local only: SignalR serializes lazily, for the protocols these connections actually use.
            WriteLocal(localTargets, excluded, new SerializedHubMessage(invocation));
            return;
        }
        var serialized = _protocols.AllProtocols.Select(p => (p.Name, p.GetMessageBytes(invocation))).ToList();
        var payload = BackplaneProtocol.WriteInvocation(_serverId, targets, excluded, serialized);
        await RunSendAsync([.. invocationRoutes], payload, isEvent: false, [], token: null, skip: _serverId, cancellationToken);
        WriteLocal(localTargets, excluded, new SerializedHubMessage([.. serialized.Select(s => new SerializedMessage(s.Name, s.Item2))]));
    }

    private async Task PublishEventAsync(string[] routes, Targets targets, IEnumerable<LocalConnection> localTargets, IReadOnlyList<string> historyTargets,
        IReadOnlyList<string>? excluded, ServerEvent serverEvent, CancellationToken cancellationToken)
    {
        var body = BackplaneProtocol.WriteEventBody(_serverId, targets, excluded, serverEvent.Channel, serverEvent.Selector, serverEvent.Json);
        var streams = _historyPerTarget > 0 ? HistoryStreams(historyTargets) : [];
        // Behind notifications still waiting for Redis, so as not to overtake them; straight there while Redis is unreachable.
        if ((_backplane.Buffer.Count > 0 || !_backplane.IsConnected) && TryBuffer(routes, streams, body, evenIfEmpty: !_backplane.IsConnected, null))
        {
            return;
        }
        // Sent with the other notifies made meanwhile, in one script call; 0 when it was buffered instead.
        var eventId = await SendEventAsync(new OutgoingEvent(routes, streams, body), cancellationToken);
        if (eventId == 0)
        {
            return;
        }
        // Done once this server has queued it for its own recipients too (see DeliveryWatermark) — unless its inbox is
        // not read now: then the back-fill delivers it, and waiting would only stall the caller.
        if (localTargets.Any() && _backplane.InboxLive)
        {
            await _delivered.WaitAsync(eventId);
        }
    }

    private string[] HistoryStreams(IReadOnlyList<string> targets)
    {
        var streams = new string[targets.Count];
        for (var i = 0; i < streams.Length; i++)
        {
            streams[i] = (string)_keys.History(targets[i])!;
        }
        return streams;
    }

    /// <summary>Runs the send script: the event's id, one message per server that needs it, its history entries, in one round trip.</summary>
    private async Task<(long EventId, long Servers, long Receivers)> RunSendAsync(string[] routes, byte[] body, bool isEvent, string[] streams, string? token, string? skip, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [_keys.EventSequence, _keys.HistoryFloor, _keys.HistoryClock, _keys.InboxSequences, token is null ? _keys.EventSequence : (RedisKey)token, .. streams.Select(s => (RedisKey)s)];
        RedisValue[] args =
        [
            _keys.Prefix, body, isEvent ? "1" : "0", "1", routes.Length, _backplane.ChannelPrefix, _historyPerTarget, _historyMaxAgeMs,
            token is null ? "0" : "1", skip ?? "", .. routes.Select(r => (RedisValue)r),
        ];
        var reply = (RedisResult[])(await EventScripts.Send.RunAsync(_backplane, keys, args, cancellationToken))!;
        return ((long)reply[0], (long)reply[1], (long)reply[2]);
    }

    /// <summary>Sends a control message to the inbox of whoever <paramref name="route"/> names; returns how many servers read it.</summary>
    private async Task<long> SendToAsync(string route, byte[] payload, CancellationToken cancellationToken) =>
        (await RunSendAsync([route], payload, isEvent: false, [], token: null, skip: null, cancellationToken)).Receivers;

    /// <summary>
    /// Queues a notification behind those waiting for Redis (or, with <paramref name="evenIfEmpty"/>, as the first one);
    /// false when none wait. A full buffer refuses it with a <see cref="RedisUnreachableException"/> (its cause inside).
    /// </summary>
    private bool TryBuffer(string[] routes, string[] streams, byte[] body, bool evenIfEmpty, Exception? cause)
    {
        var buffer = _backplane.Buffer;
        switch (buffer.TryAdd(sequence => new BufferedNotification(routes, streams, body, (string)_keys.PublishToken(_serverId, sequence)!), evenIfEmpty))
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
                throw new RedisUnreachableException(buffer.Capacity == 0
                    ? $"Redis at {_backplane.EndPoint} is unreachable and notifications are not buffered (RedisBackplaneOptions.MaxBufferedNotifications is 0): this one was not sent."
                    : $"Redis at {_backplane.EndPoint} is unreachable and {buffer.Capacity} notifications already wait for it " +
                        "(RedisBackplaneOptions.MaxBufferedNotifications): this one was not sent.", cause);
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
                    if (!_backplane.IsConnected)
                    {
                        await Task.Delay(DrainRetryDelay, _disposed.Token);
                        continue;
                    }
                    await RunSendAsync(next.Routes, next.Body, isEvent: true, next.Streams, next.Token, skip: null, _disposed.Token);
                    published++;
                }
                catch (RedisServerException ex) when (!RedisErrors.IsTransient(ex))
                {
                    // Redis refused it (out of memory, say): retrying cannot help, and it would hold up the rest.
                    RedisLog.BufferedRefused(_logger, ex.Message);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Maybe run, maybe not (or not yet possible): the token makes the retry safe either way. Anything
                    // else is retried too: the loop must not die with notifications queued behind its head.
                    if (!RedisErrors.IsRedisFailure(ex))
                    {
                        RedisLog.BufferedRetry(_logger, ex.Message);
                    }
                    await Task.Delay(DrainRetryDelay, _disposed.Token);
                    continue;
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

    private static SerializedHubMessage EventMessage(ServerEvent serverEvent) =>
        new(new InvocationMessage(ServerEventsHubBase.ClientMethod, [serverEvent]));

    private void WriteLocal(IEnumerable<LocalConnection> targets, IReadOnlyList<string>? excluded, SerializedHubMessage message, long eventId = 0, bool direct = false,
        List<LocalConnection>? drainLater = null)
    {
        var max = _backplane.Options.MaxPendingBytesPerConnection;
        var serialized = new SerializedBytes(message);
        var written = 0;
        // A group's or user's members come as an array: walked as one, without an enumerator per message.
        if (targets is LocalConnection[] members)
        {
            foreach (var connection in members)
            {
                written += WriteOne(connection, excluded, message, ref serialized, max, eventId, direct, drainLater);
            }
        }
        else
        {
            foreach (var connection in targets)
            {
                written += WriteOne(connection, excluded, message, ref serialized, max, eventId, direct, drainLater);
            }
        }
        if (message.Message is InvocationMessage { Target: ServerEventsHubBase.ClientMethod })
        {
            _backplane.Metrics.Delivered(written);
        }
    }

    /// <summary>Queues the message for one connection unless it is excluded; 1 when queued (at most <paramref name="max"/> bytes may wait).</summary>
    private int WriteOne(LocalConnection connection, IReadOnlyList<string>? excluded, SerializedHubMessage message, ref SerializedBytes serialized, long max, long eventId, bool direct,
        List<LocalConnection>? drainLater)
    {
        if (excluded is { Count: > 0 } && excluded.Contains(connection.Id, StringComparer.Ordinal))
        {
            return 0;
        }
        if (connection.TryWrite(message, serialized.For(connection.Context.Protocol), max, eventId, direct, drainLater))
        {
            return 1;
        }
        RedisLog.SlowConnectionClosed(_logger, connection.Id, max);
        _backplane.Metrics.SlowClientClosed(ServerEventsMetrics.TransportOf(connection.Context.Features));
        return 0;
    }

    /// <summary>This server's recipients of a message.</summary>
    private IEnumerable<LocalConnection> Resolve(Targets targets) => targets.Kind switch
    {
        TargetKind.All => _connections.Values,
        TargetKind.Groups => targets.Names.Count == 1 ? _groups.Members(targets.Names[0]) : targets.Names.SelectMany(_groups.Members),
        TargetKind.Users => targets.Names.Count == 1 ? _users.Members(targets.Names[0]) : targets.Names.SelectMany(_users.Members),
        _ => targets.Names.Select(id => _connections.GetValueOrDefault(id)).OfType<LocalConnection>(),
    };

    /// <summary>The inbox loop: one message at a time, in the order Redis sent them.</summary>
    private void OnInboxMessage(ChannelMessage message)
    {
        // The connections whose drains wait for the end of this message: a connection gets its events of a batch
        // together (LocalConnection joins them into as few writes as it can). Per message, not per manager: after a
        // resubscription the old loop may still be finishing its last message while the new one starts.
        var touched = new List<LocalConnection>();
        try
        {
            ReadOnlyMemory<byte> frame = message.Message;
            var sequence = BackplaneProtocol.SplitInboxSequence(frame.Span, out var start);
            // A message sent to this inbox did not arrive (a reconnect, a fail-over, Redis lost its data): hold every
            // connection from here and back-fill what they missed, before this one and anything after it is released.
            var gap = _lastInboxSequence >= 0 && sequence != _lastInboxSequence + 1;
            _lastInboxSequence = sequence;
            if (gap)
            {
                RedisLog.InboxGap(_logger, sequence);
                InboxLost();
            }
            var payload = frame[start..];
            if (!payload.IsEmpty && payload.Span[0] == BackplaneProtocol.Batch)
            {
                var position = 1;
                while (BackplaneProtocol.TryReadBatchEntry(payload.Span, ref position, out var entry))
                {
                    Dispatch(payload[entry], touched);
                }
            }
            else
            {
                Dispatch(payload, touched);
            }
        }
        catch (FormatException ex)
        {
            RedisLog.BadMessage(_logger, ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The client's reading loop would swallow it without a word; the next message must still be read.
            RedisLog.InboxMessageFailed(_logger, ex);
        }
        finally
        {
            // Every connection put on the list is drained, also after a failure.
            foreach (var connection in touched)
            {
                connection.Drain();
            }
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> payload, List<LocalConnection> touched)
    {
        var span = payload.Span;
        if (span.IsEmpty)
        {
            return;
        }
        // Our own events come back this way too, in id order with everyone else's.
        if (BackplaneProtocol.TryReadEvent(span, out var serverEvent, out var targets, out var excluded))
        {
            // Marked before the writes: a back-fill that reads the mark after holding the connections then
            // finds each write of this event either done before the hold or held (see OnPubSubLost).
            _delivered.Delivered(serverEvent.EventId);
            // What came to connections or users alone is in no history: delivered even to a connection that is resuming.
            WriteLocal(Resolve(targets), excluded, EventMessage(serverEvent), serverEvent.EventId, direct: targets.Kind is TargetKind.Connections or TargetKind.Users,
                drainLater: touched);
            return;
        }
        var reader = new BackplaneProtocol.Reader(span);
        switch (reader.Kind())
        {
            case BackplaneProtocol.Invocation:
                if (reader.String() != _serverId)
                {
                    var invocationTargets = reader.Targets();
                    var except = reader.Strings();
                    WriteLocal(Resolve(invocationTargets), except, reader.Serialized());
                }
                break;
            case BackplaneProtocol.Group:
                OnRemoteGroupChange(ref reader);
                break;
            case BackplaneProtocol.Close:
                reader.String();
                if (_connections.TryGetValue(reader.String(), out var closing))
                {
                    closing.Context.Abort();
                }
                break;
            case BackplaneProtocol.CloseAll:
                if (reader.String() != _serverId)
                {
                    AbortAllLocal();
                }
                break;
            case BackplaneProtocol.ClientInvocation:
                OnClientInvocation(span);
                break;
            case BackplaneProtocol.Ack:
                var requestId = reader.VarInt();
                _acks.Complete(requestId, reader.VarInt() == 1);
                break;
            case BackplaneProtocol.ClientResult:
                CompleteRelayedResult(span);
                break;
            case BackplaneProtocol.Probe:
                ProbeArrived(reader.VarInt());
                break;
        }
    }

    /// <summary>Another server asks this one to change the groups of a connection it owns.</summary>
    private void OnRemoteGroupChange(ref BackplaneProtocol.Reader reader)
    {
        var origin = reader.String();
        var requestId = reader.VarInt();
        var add = reader.VarInt() == 1;
        var group = reader.String();
        var connectionId = reader.String();
        _connections.TryGetValue(connectionId, out var local);
        // Off the inbox loop: joining may add a route, which waits for Redis.
        _ = Task.Run(async () =>
        {
            try
            {
                if (local is not null)
                {
                    await ChangeLocalGroupAsync(local, group, add);
                }
                await SendToAsync(Routes.Server(origin), BackplaneProtocol.WriteAck(requestId, done: local is not null), CancellationToken.None);
            }
            catch (Exception ex) when (RedisErrors.IsRedisFailure(ex))
            {
                RedisLog.RemoteGroupChangeFailed(_logger, connectionId, group, ex);
            }
        });
    }
}

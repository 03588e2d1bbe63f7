using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using ServerEvents.Redis.Internal;

namespace ServerEvents.Redis;

/// <summary>
/// Client results (<c>Clients.Client(id).InvokeAsync&lt;T&gt;</c>) for a connection on any server. The
/// requesting server keeps the pending call; the owning server forwards the invocation and relays the
/// client's answer back as raw bytes, which the requester parses with the client's protocol into T.
/// </summary>
internal sealed partial class RedisHubLifetimeManager<THub>
{
    private readonly ConcurrentDictionary<string, PendingClientResult> _pendingResults = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RelayedInvocation> _relayedResults = new(StringComparer.Ordinal);
    private long _lastInvocationId;

    /// <inheritdoc />
    public override async Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        ArgumentNullException.ThrowIfNull(methodName);
        // The server id makes invocation ids unique across the cluster: the owner tracks relayed ones by id.
        var invocationId = _serverId + ":" + Interlocked.Increment(ref _lastInvocationId).ToString(CultureInfo.InvariantCulture);
        var pending = new PendingClientResult<T>(connectionId);
        _pendingResults[invocationId] = pending;
        await using var cancel = cancellationToken.Register(() =>
        {
            // As SignalR's own managers do: the caller sees a HubException, whatever the client does later.
            if (_pendingResults.TryRemove(invocationId, out var removed))
            {
                removed.Complete(CompletionMessage.WithError(invocationId, "Invocation canceled by the server."));
            }
        });
        try
        {
            var invocation = new InvocationMessage(invocationId, methodName, args);
            if (_connections.TryGetValue(connectionId, out var local))
            {
                await local.Context.WriteAsync(invocation, cancellationToken);
            }
            else
            {
                await EnsureStartedAsync(cancellationToken);
                var serialized = _protocols.AllProtocols.Select(p => (p.Name, p.GetMessageBytes(invocation))).ToList();
                var receivers = await SendToAsync(Routes.Connection(connectionId), BackplaneProtocol.WriteClientInvocation(_serverId, invocationId, connectionId, serialized), cancellationToken);
                if (receivers == 0)
                {
                    throw new IOException($"Connection '{connectionId}' does not exist.");
                }
            }
        }
        catch
        {
            _pendingResults.TryRemove(invocationId, out _);
            throw;
        }
        return await pending.Task;
    }

    /// <inheritdoc />
    public override async Task SetConnectionResultAsync(string connectionId, CompletionMessage result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var invocationId = result.InvocationId ?? "";
        if (_pendingResults.TryGetValue(invocationId, out var pending) && pending.ConnectionId == connectionId)
        {
            if (_pendingResults.TryRemove(invocationId, out _))
            {
                pending.Complete(result);
            }
            return;
        }
        if (_relayedResults.TryGetValue(invocationId, out var relayed) && relayed.ConnectionId == connectionId
            && _relayedResults.TryRemove(invocationId, out _))
        {
            var (outcome, data) = result switch
            {
                { Error: { } error } => (BackplaneProtocol.ResultError, Encoding.UTF8.GetBytes(error)),
                { HasResult: true, Result: RawResult raw } => (BackplaneProtocol.ResultValue, raw.RawSerializedData.ToArray()),
                _ => (BackplaneProtocol.ResultNone, []),
            };
            await SendToAsync(Routes.Server(relayed.Origin), BackplaneProtocol.WriteClientResult(invocationId, relayed.Protocol, outcome, data), CancellationToken.None);
        }
        // Anything else answers no call we know of (or one already cancelled): nothing to do.
    }

    /// <inheritdoc />
    public override bool TryGetReturnType(string invocationId, [NotNullWhen(true)] out Type? type)
    {
        if (_pendingResults.TryGetValue(invocationId, out var pending))
        {
            type = pending.ResultType;
            return true;
        }
        if (_relayedResults.ContainsKey(invocationId))
        {
            // Keep the bytes as they are: the requesting server parses them into its T.
            type = typeof(RawResult);
            return true;
        }
        type = null;
        return false;
    }

    /// <summary>
    /// On the owning server: forwards a call from another server to the local client — or, when the connection has left
    /// (the call was sent while it was leaving), tells the caller so, or it would wait for ever.
    /// </summary>
    private void OnClientInvocation(ReadOnlySpan<byte> payload)
    {
        var reader = new BackplaneProtocol.Reader(payload);
        reader.Kind();
        var origin = reader.String();
        var invocationId = reader.String();
        var connectionId = reader.String();
        if (!_connections.TryGetValue(connectionId, out var local) || local.Departed)
        {
            _ = Quietly(() => SendToAsync(Routes.Server(origin), ConnectionGone(invocationId, "", connectionId), CancellationToken.None));
            return;
        }
        var message = reader.Serialized();
        _relayedResults[invocationId] = new RelayedInvocation(origin, local.Id, local.Context.Protocol.Name);
        local.TryWrite(message, _backplane.Options.MaxPendingWritesPerConnection);
    }

    private static byte[] ConnectionGone(string invocationId, string protocol, string connectionId) =>
        BackplaneProtocol.WriteClientResult(invocationId, protocol, BackplaneProtocol.ResultConnectionGone, Encoding.UTF8.GetBytes($"Connection '{connectionId}' disconnected."));

    /// <summary>On the requesting server: a relayed answer arrived.</summary>
    private void CompleteRelayedResult(ReadOnlySpan<byte> payload)
    {
        var reader = new BackplaneProtocol.Reader(payload);
        reader.Kind();
        var invocationId = reader.String();
        var protocolName = reader.String();
        var outcome = (int)reader.VarInt();
        if (!_pendingResults.TryRemove(invocationId, out var pending))
        {
            return;
        }
        switch (outcome)
        {
            case BackplaneProtocol.ResultError:
                pending.Complete(CompletionMessage.WithError(invocationId, reader.String()));
                break;
            case BackplaneProtocol.ResultConnectionGone:
                pending.Fail(new IOException(reader.String()));
                break;
            case BackplaneProtocol.ResultNone:
                pending.Complete(CompletionMessage.Empty(invocationId));
                break;
            default:
                pending.Complete(ParseResult(invocationId, protocolName, reader.Bytes(), pending.ResultType));
                break;
        }
    }

    /// <summary>Turns raw result bytes into a completion carrying T, by letting the client's protocol parse them.</summary>
    private CompletionMessage ParseResult(string invocationId, string protocolName, ReadOnlySpan<byte> value, Type resultType)
    {
        var protocol = _protocols.GetProtocol(protocolName, null);
        if (protocol is null)
        {
            return CompletionMessage.WithError(invocationId, $"Hub protocol '{protocolName}' of the client is not registered on this server.");
        }
        var buffer = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(CompletionMessage.WithResult(invocationId, new RawResult(new ReadOnlySequence<byte>(value.ToArray()))), buffer);
        var bytes = new ReadOnlySequence<byte>(buffer.WrittenMemory);
        try
        {
            return protocol.TryParseMessage(ref bytes, new ResultTypeBinder(resultType), out var parsed) && parsed is CompletionMessage completion
                ? completion
                : CompletionMessage.WithError(invocationId, "The client's result could not be read.");
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            return CompletionMessage.WithError(invocationId, $"The client's result is not a {resultType.Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// This server's inbox is not read (or missed messages): answers other servers sent meanwhile never arrive, so the
    /// calls waiting for one fail now rather than never end.
    /// </summary>
    private void FailRemoteClientResults()
    {
        foreach (var (invocationId, pending) in _pendingResults)
        {
            if (!_connections.ContainsKey(pending.ConnectionId) && _pendingResults.TryRemove(invocationId, out _))
            {
                pending.Fail(new IOException($"This server's inbox at Redis {_backplane.EndPoint} was lost: the result of connection '{pending.ConnectionId}' cannot arrive."));
            }
        }
    }

    /// <summary>Fails the calls waiting on a connection that has gone, and tells requesters of relayed calls.</summary>
    private async Task FailClientResultsOf(string connectionId)
    {
        foreach (var (invocationId, pending) in _pendingResults)
        {
            if (pending.ConnectionId == connectionId && _pendingResults.TryRemove(invocationId, out _))
            {
                pending.Fail(new IOException($"Connection '{connectionId}' disconnected."));
            }
        }
        foreach (var (invocationId, relayed) in _relayedResults)
        {
            if (relayed.ConnectionId == connectionId && _relayedResults.TryRemove(invocationId, out _))
            {
                await Quietly(() => SendToAsync(Routes.Server(relayed.Origin), ConnectionGone(invocationId, relayed.Protocol, connectionId), CancellationToken.None));
            }
        }
    }

    private sealed record RelayedInvocation(string Origin, string ConnectionId, string Protocol);

    /// <summary>Tells a protocol which type an invocation's result has; nothing else is parsed with it.</summary>
    private sealed class ResultTypeBinder(Type resultType) : IInvocationBinder
    {
        public Type GetReturnType(string invocationId) => resultType;

        public IReadOnlyList<Type> GetParameterTypes(string methodName) => throw new NotSupportedException();

        public Type GetStreamItemType(string streamId) => throw new NotSupportedException();
    }
}

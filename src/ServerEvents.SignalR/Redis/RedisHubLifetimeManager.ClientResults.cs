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
/// client's whole completion message back, written with the client's protocol, which the requester parses into T
/// with the same protocol — as Microsoft's Redis backplane does, so any value the protocol can write survives.
/// Outcomes and messages are those of SignalR's own managers (docs/redis.md lists them, and where ours differ).
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
    /// <exception cref="InvalidOperationException">The call was made to another connection (SignalR's own managers throw the same).</exception>
    public override async Task SetConnectionResultAsync(string connectionId, CompletionMessage result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var invocationId = result.InvocationId ?? "";
        if (_pendingResults.TryGetValue(invocationId, out var pending))
        {
            EnsureCalled(pending.ConnectionId, connectionId, invocationId);
            if (_pendingResults.TryRemove(invocationId, out _))
            {
                pending.Complete(result);
            }
            return;
        }
        if (_relayedResults.TryGetValue(invocationId, out var relayed))
        {
            EnsureCalled(relayed.ConnectionId, connectionId, invocationId);
            if (_relayedResults.TryRemove(invocationId, out _))
            {
                await SendToAsync(Routes.Server(relayed.Origin), RelayedCompletion(invocationId, relayed.Protocol, result), CancellationToken.None);
            }
        }
        // Anything else answers no call we know of (or one already cancelled): nothing to do, as in SignalR.
    }

    private static void EnsureCalled(string called, string completing, string invocationId)
    {
        if (called != completing)
        {
            throw new InvalidOperationException($"Connection ID '{completing}' is not valid for invocation ID '{invocationId}'.");
        }
    }

    /// <summary>The completion as the client's protocol writes it: a raw result as it came, any other value serialized.</summary>
    private byte[] RelayedCompletion(string invocationId, string protocolName, CompletionMessage result)
    {
        if (_protocols.GetProtocol(protocolName, null) is not { } protocol)
        {
            return BackplaneProtocol.WriteClientResult(invocationId, "", BackplaneProtocol.ResultCompletion, []);
        }
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            protocol.WriteMessage(result, buffer);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A value the client's protocol cannot write: the caller gets an error, not a call that never ends.
            buffer.Clear();
            protocol.WriteMessage(CompletionMessage.WithError(invocationId, $"Client result could not be written with the '{protocolName}' protocol: {ex.Message}"), buffer);
        }
        return BackplaneProtocol.WriteClientResult(invocationId, protocolName, BackplaneProtocol.ResultCompletion, buffer.WrittenSpan);
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
        local.TryWrite(message, LocalConnection.SerializedFor(message, local.Context.Protocol), _backplane.Options.MaxPendingBytesPerConnection);
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
        if (outcome == BackplaneProtocol.ResultConnectionGone)
        {
            // What Microsoft's backplane reports when the connection leaves on another server.
            pending.Fail(new HubException("Connection disconnected."));
            return;
        }
        pending.Complete(ParseCompletion(invocationId, protocolName, reader.Bytes(), pending.ResultType));
    }

    /// <summary>
    /// Reads a relayed completion with the client's protocol, binding its result to T: a value of another type comes back
    /// as the protocol's own error ("Error trying to deserialize result to …").
    /// </summary>
    private CompletionMessage ParseCompletion(string invocationId, string protocolName, ReadOnlySpan<byte> data, Type resultType)
    {
        if (_protocols.GetProtocol(protocolName, null) is not { } protocol)
        {
            return CompletionMessage.WithError(invocationId, $"Hub protocol '{protocolName}' of the client is not registered on this server.");
        }
        var bytes = new ReadOnlySequence<byte>(data.ToArray());
        try
        {
            if (protocol.TryParseMessage(ref bytes, new ResultTypeBinder(resultType), out var parsed) && parsed is CompletionMessage completion)
            {
                return completion;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever the protocol throws (JSON, MessagePack, a truncated message): the caller gets an error, not a call
            // that never ends (its pending entry is gone already).
            RedisLog.BadMessage(_logger, ex.Message);
        }
        return CompletionMessage.WithError(invocationId, $"Client result wasn't deserializable to {resultType.Name}.");
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

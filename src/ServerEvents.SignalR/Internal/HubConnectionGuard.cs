using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>A hub protocol the library uses inside the server (the SSE bridge's), never negotiable by a hub client.</summary>
internal interface IInternalHubProtocol;

/// <summary>
/// Stands in front of SignalR for every connection to the mapped hub: refuses an internal protocol in the handshake,
/// holds each client address to <see cref="ServerEventsOptions.MaxConnectionsPerAddress"/>, and closes a connection
/// that sends nothing after its handshake within <see cref="ServerEventsOptions.SilentConnectionTimeout"/> (SignalR's own
/// client timeout only starts with the client's first message). Refusals are answered the way SignalR answers a bad
/// handshake, so clients report the reason.
/// </summary>
internal sealed class HubConnectionGuard : IDisposable
{
    // Handshakes are a few dozen bytes; more than this without a record separator is not one.
    private const int MaxHandshakeBytes = 4096;
    private const byte RecordSeparator = 0x1e;

    private readonly ConnectionsPerAddress _perAddress;
    private readonly SubscriptionFactory _factory;
    private readonly bool _authenticatedOnly;
    private readonly HashSet<string> _internalProtocols;
    private readonly TimeSpan? _silentTimeout;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeProvider _time;
    private readonly RefusalLog _refusals;
    private readonly ServerEventsMetrics _metrics;
    private readonly ConcurrentDictionary<ConnectionContext, (long ConnectedAt, ActivityWatchingReader Input)> _silent = new();
    private readonly ITimer? _sweep;

    public HubConnectionGuard(ConnectionsPerAddress perAddress, SubscriptionFactory factory, IEnumerable<IHubProtocol> protocols, IOptions<ServerEventsOptions> options,
        IOptions<HubOptions> hubOptions, TimeProvider time, RefusalLog refusals, ServerEventsMetrics metrics)
    {
        _metrics = metrics;
        _factory = factory;
        _authenticatedOnly = options.Value.LimitToAuthenticatedUsers;
        _handshakeTimeout = hubOptions.Value.HandshakeTimeout ?? TimeSpan.FromSeconds(15);
        _perAddress = perAddress;
        _internalProtocols = [.. protocols.OfType<IInternalHubProtocol>().Cast<IHubProtocol>().Select(p => p.Name)];
        _silentTimeout = options.Value.SilentConnectionTimeout;
        _time = time;
        _refusals = refusals;
        if (_silentTimeout is { } timeout)
        {
            var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, timeout.Ticks / 4));
            _sweep = time.CreateTimer(_ => CloseSilent(), null, period, period);
        }
    }

    /// <summary>The connection middleware: runs the connection through SignalR once the guard lets it in.</summary>
    public async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var http = connection.Features.Get<IHttpContextFeature>()?.HttpContext;
        var address = http?.Connection.RemoteIpAddress;
        if (!_perAddress.TryAcquire(address))
        {
            _refusals.Refused(RefusalLog.ConnectionsPerAddress, "too many connections from one address", address?.ToString());
            await RefuseAsync(connection, $"Too many connections from {address}: at most {_perAddress.Limit} per address.");
            return;
        }
        try
        {
            var handshake = await ReadHandshakeAsync(connection, _handshakeTimeout);
            if (handshake.TimedOut)
            {
                // What SignalR would do after the same wait, without a second one.
                connection.Abort(new ConnectionAbortedException("No handshake arrived in time."));
                return;
            }
            if (handshake.Protocol is { } protocol && _internalProtocols.Contains(protocol))
            {
                _refusals.Refused(RefusalLog.InternalProtocol, "an internal hub protocol in a handshake", protocol);
                await RefuseAsync(connection, $"The protocol '{protocol}' is not available on this endpoint.");
                return;
            }
            if (http is not null && RequestRefusal(http) is { } refusal)
            {
                _refusals.Refused(RefusalLog.ConnectInput, "a hub connection", refusal);
                await RefuseAsync(connection, refusal);
                return;
            }
            _metrics.ConnectionOpened(ServerEventsMetrics.Hub);
            try
            {
                await RunWatchedAsync(connection, next, handshake.Length);
            }
            finally
            {
                _metrics.ConnectionClosed(ServerEventsMetrics.Hub);
            }
        }
        finally
        {
            _perAddress.Release(address);
        }
    }

    /// <summary>Runs the connection through SignalR, watching it for silence if <see cref="_silentTimeout"/> is set.</summary>
    private async Task RunWatchedAsync(ConnectionContext connection, ConnectionDelegate next, long? handshakeLength)
    {
        if (_silentTimeout is null || handshakeLength is not { } length)
        {
            await next(connection);
            return;
        }
        var input = new ActivityWatchingReader(connection.Transport.Input, length);
        connection.Transport = new DuplexPipe(input, connection.Transport.Output);
        _silent[connection] = (_time.GetTimestamp(), input);
        try
        {
            await next(connection);
        }
        finally
        {
            _silent.TryRemove(connection, out _);
        }
    }

    public void Dispose() => _sweep?.Dispose();

    /// <summary>
    /// Why the connect request's own input is refused, or null: checked here so that a refusal is an answer to the
    /// handshake, not an exception SignalR logs as a server error. The hub checks the same again (for hubs mapped
    /// without this guard), and what needs the subscription (channel authorization, hooks) only there.
    /// </summary>
    private string? RequestRefusal(Microsoft.AspNetCore.Http.HttpContext http)
    {
        if (_authenticatedOnly && http.User.Identity?.IsAuthenticated != true)
        {
            return "Not authenticated: this server accepts subscriptions from authenticated users only.";
        }
        try
        {
            _factory.ChannelsFromQuery(http.Request.Query);
            SubscriptionLifecycle.LastEventId(http);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    private void CloseSilent()
    {
        foreach (var (connection, (connectedAt, input)) in _silent)
        {
            if (input.Active)
            {
                // It spoke: SignalR's client timeout watches it from here.
                _silent.TryRemove(connection, out _);
            }
            else if (_time.GetElapsedTime(connectedAt) > _silentTimeout)
            {
                _silent.TryRemove(connection, out _);
                _refusals.Refused(RefusalLog.SilentConnection, "a hub connection that sent nothing after its handshake", connection.ConnectionId);
                connection.Abort(new ConnectionAbortedException("The client sent nothing after its handshake."));
            }
        }
    }

    /// <summary>
    /// Waits for the client's handshake without consuming it (SignalR reads it next) and returns the protocol it names
    /// and its length in bytes, or nulls when it is not a well-formed handshake (SignalR then answers it itself); timed out
    /// when none came within SignalR's handshake timeout.
    /// </summary>
    private static async Task<(string? Protocol, long? Length, bool TimedOut)> ReadHandshakeAsync(ConnectionContext connection, TimeSpan limit)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(limit);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return (null, null, true);
            }
            var buffer = read.Buffer;
            if (buffer.PositionOf(RecordSeparator) is { } end)
            {
                var length = buffer.Slice(0, end).Length + 1;
                var protocol = ProtocolOf(buffer.Slice(0, end));
                input.AdvanceTo(buffer.Start);
                return (protocol, length, false);
            }
            if (read.IsCompleted || read.IsCanceled || buffer.Length > MaxHandshakeBytes)
            {
                input.AdvanceTo(buffer.Start);
                return (null, null, false);
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static string? ProtocolOf(ReadOnlySequence<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("protocol"u8) && reader.Read())
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Not a handshake we can read: SignalR refuses it with its own message.
        }
        return null;
    }

    private static async Task RefuseAsync(ConnectionContext connection, string reason)
    {
        // A handshake response with an error: SignalR clients fail their start with this text.
        var response = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["error"] = reason });
        var output = connection.Transport.Output;
        await output.WriteAsync(response);
        await output.WriteAsync(new[] { RecordSeparator });
        await output.FlushAsync();
    }
}

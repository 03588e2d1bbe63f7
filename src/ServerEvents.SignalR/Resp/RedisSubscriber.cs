using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Resp;

/// <summary>
/// The dedicated pub/sub connection. Each Redis channel has one handler; <see cref="SubscribeAsync"/>
/// returns once Redis has confirmed the subscription, so a publish made afterwards is received. After a
/// lost connection it reconnects with back-off, subscribes every registered channel again, then raises
/// <see cref="Reconnected"/>. A periodic PING detects a connection that died silently.
/// </summary>
/// <remarks>Handlers run on the read loop, in publish order: they must be quick and must not block.</remarks>
internal sealed class RedisSubscriber : IAsyncDisposable
{
    private const int ResubscribeBatch = 500;
    private readonly RedisConnectionOptions _options;
    private readonly ReconnectPolicy _policy;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Action<string, ReadOnlyMemory<byte>>> _handlers = new(StringComparer.Ordinal);
    // Channels being unsubscribed: Redis may still deliver what was published before it took the UNSUBSCRIBE (and
    // counted this server as a receiver of), so their handlers run until it confirms.
    private readonly ConcurrentDictionary<string, Action<string, ReadOnlyMemory<byte>>> _closing = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Queue<TaskCompletionSource> _acks = new();
    private RedisSocket? _socket;
    private TaskCompletionSource<Exception> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _supervisor;
    private string _lastError = "not connected yet";
    private volatile bool _ready;

    public RedisSubscriber(RedisConnectionOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _policy = new ReconnectPolicy(options.MinReconnectDelay, options.MaxReconnectDelay);
    }

    /// <summary>True while connected with every channel subscribed; false from a loss until the resubscription is done.</summary>
    public bool IsConnected => _ready && SocketAlive;

    private bool SocketAlive => _socket is not null && !_lost.Task.IsCompleted;

    /// <summary>How often the connection is checked with PING.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Raised after a reconnect, once every channel is subscribed again.</summary>
    public event Func<Task>? Reconnected;

    /// <summary>
    /// Raised once the connection is lost, before reconnecting starts and so before any message published after
    /// the loss can arrive; handlers run synchronously and must be quick.
    /// </summary>
    public event Action? Disconnected;

    public IReadOnlyCollection<string> Channels => [.. _handlers.Keys];

    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        var socket = await RedisSocket.ConnectAsync(_options, "sub", cancellationToken);
        Attach(socket);
        MarkReady(_lost);
        _supervisor = SuperviseAsync();
    }

    /// <summary>Subscribes (or replaces the handler of) a channel and waits for Redis to confirm it.</summary>
    public async Task SubscribeAsync(string channel, Action<string, ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken = default)
    {
        if (_handlers.TryGetValue(channel, out _))
        {
            _handlers[channel] = handler;
            return;
        }
        _handlers[channel] = handler;
        try
        {
            await SendAsync("SUBSCRIBE", [channel], cancellationToken);
        }
        catch
        {
            _handlers.TryRemove(channel, out _);
            throw;
        }
    }

    /// <summary>
    /// Unsubscribes a channel. Its handler still gets what Redis sends before confirming (messages published before
    /// the UNSUBSCRIBE, whose publisher was told this server received them), and nothing after.
    /// </summary>
    public async Task UnsubscribeAsync(string channel, CancellationToken cancellationToken = default)
    {
        if (!_handlers.TryRemove(channel, out var handler))
        {
            return;
        }
        var closing = new KeyValuePair<string, Action<string, ReadOnlyMemory<byte>>>(channel, handler);
        _closing[channel] = handler;
        Task confirmed;
        try
        {
            confirmed = await WriteAsync("UNSUBSCRIBE", [channel], null, cancellationToken);
        }
        catch (Exception ex)
        {
            _closing.TryRemove(closing);
            if (ex is RedisConnectionException)
            {
                // Not subscribed on a dead connection either; the reconnect will not re-subscribe it.
                return;
            }
            throw;
        }
        // The handler goes when Redis confirms, or when the connection is lost (which fails the confirmation), even
        // if this call gives up waiting first: until then Redis may still send what it counted us as receiving.
        _ = confirmed.ContinueWith(_ => _closing.TryRemove(closing), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await WaitConfirmedAsync("UNSUBSCRIBE", confirmed, cancellationToken);
        }
        catch (RedisConnectionException)
        {
        }
    }

    /// <summary>Disconnects and stops reconnecting.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        await _disposed.CancelAsync();
        await LoseAsync(new ObjectDisposedException(nameof(RedisSubscriber)));
        if (_supervisor is not null)
        {
            await _supervisor;
        }
        _disposed.Dispose();
        _writeLock.Dispose();
    }

    private async Task SendAsync(string command, string[] channels, CancellationToken cancellationToken, Func<string, bool>? stillWanted = null) =>
        await WaitConfirmedAsync(command, await WriteAsync(command, channels, stillWanted, cancellationToken), cancellationToken);

    /// <summary>
    /// Writes (UN)SUBSCRIBE or PING; returns, once written, the task of Redis's confirmations. Channels
    /// <paramref name="stillWanted"/> rejects once the write lock is held are left out (a resubscription must not
    /// subscribe again what was unsubscribed since it listed the channels).
    /// </summary>
    private async Task<Task> WriteAsync(string command, string[] channels, Func<string, bool>? stillWanted, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (stillWanted is not null)
            {
                channels = [.. channels.Where(stillWanted)];
                if (channels.Length == 0)
                {
                    return Task.CompletedTask;
                }
            }
            var builder = new RespCommand.Builder(command, channels.Length);
            foreach (var channel in channels)
            {
                builder.Add(channel);
            }
            var encoded = builder.Build();
            // Redis confirms each channel of (UN)SUBSCRIBE separately; PING gets one pong.
            var expected = channels.Length == 0 ? 1 : channels.Length;
            var acks = new List<Task>(expected);
            RedisSocket socket;
            lock (_gate)
            {
                // Checked under the lock that a loss clears the confirmations under: none is left behind for the next
                // connection, where it would be matched with another command's reply.
                if (_socket is not { } live || _lost.Task.IsCompleted)
                {
                    throw new RedisConnectionException($"Not connected to Redis at {_options.EndPoint} ({_lastError}); reconnecting.", unsent: true);
                }
                socket = live;
                // Redis confirms each channel in command order, so a FIFO matches confirmations to callers.
                for (var i = 0; i < expected; i++)
                {
                    var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _acks.Enqueue(ack);
                    acks.Add(ack.Task);
                }
            }
            try
            {
                socket.Write(encoded.Encoded);
                await socket.FlushAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                // The socket died under the write: that is a lost connection, which callers handle, not a crash.
                throw new RedisConnectionException($"Connection to Redis at {_options.EndPoint} lost while sending {command}: {ex.Message}", ex);
            }
            return Task.WhenAll(acks);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WaitConfirmedAsync(string command, Task confirmed, CancellationToken cancellationToken)
    {
        try
        {
            await confirmed.WaitAsync(_options.CommandTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new RedisTimeoutException($"Redis at {_options.EndPoint} did not confirm {command} within {_options.CommandTimeout.TotalMilliseconds:0} ms.");
        }
    }

    private void Attach(RedisSocket socket)
    {
        _lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        _socket = socket;
        _ = ReadLoopAsync(socket, _lost);
        _ = PingLoopAsync(socket, _lost);
    }

    private async Task ReadLoopAsync(RedisSocket socket, TaskCompletionSource<Exception> lost)
    {
        Exception reason;
        try
        {
            while (true)
            {
                var frame = await socket.ReadAsync();
                if (frame is null)
                {
                    reason = new RedisConnectionException($"Redis at {socket.EndPoint} closed the connection.");
                    break;
                }
                if (lost.Task.IsCompleted)
                {
                    // Declared lost (a PING timed out): what is still buffered from it belongs to no one now.
                    reason = new RedisConnectionException($"Connection to Redis at {socket.EndPoint} lost.");
                    break;
                }
                Dispatch(frame.Value);
            }
        }
        catch (Exception ex)
        {
            reason = ex;
        }
        if (lost == _lost)
        {
            await LoseAsync(reason);
        }
    }

    private void Dispatch(RespValue frame)
    {
        // Before the first SUBSCRIBE the connection is not in pub/sub mode and PING gets a plain +PONG.
        if (frame.Type == RespType.SimpleString && frame.AsString() == "PONG")
        {
            CompleteNextAck();
            return;
        }
        if (frame.Type != RespType.Array || frame.Items.Length < 2)
        {
            throw new RedisConnectionException($"Unexpected frame on the pub/sub connection to {_options.EndPoint}: {frame}");
        }
        var items = frame.Items;
        var kind = Encoding.ASCII.GetString(items[0].Bytes.Span);
        switch (kind)
        {
            case "message" when items.Length == 3:
                var channel = items[1].AsString()!;
                if (_handlers.TryGetValue(channel, out var handler) || _closing.TryGetValue(channel, out handler))
                {
                    try
                    {
                        handler(channel, items[2].Bytes);
                    }
                    catch (Exception ex)
                    {
                        RespLog.HandlerFailed(_logger, channel, ex);
                    }
                }
                break;
            case "subscribe":
            case "unsubscribe":
            case "pong":
                CompleteNextAck();
                break;
            default:
                throw new RedisConnectionException($"Unexpected '{kind}' frame on the pub/sub connection to {_options.EndPoint}.");
        }
    }

    // Ready only if the connection that was resubscribed is still the live one: a loss meanwhile leaves it not ready.
    private void MarkReady(TaskCompletionSource<Exception> attached)
    {
        lock (_gate)
        {
            _ready = !attached.Task.IsCompleted;
        }
    }

    private void CompleteNextAck()
    {
        TaskCompletionSource? ack;
        lock (_gate)
        {
            _acks.TryDequeue(out ack);
        }
        ack?.TrySetResult();
    }

    private async Task PingLoopAsync(RedisSocket socket, TaskCompletionSource<Exception> lost)
    {
        try
        {
            while (!lost.Task.IsCompleted)
            {
                await Task.WhenAny(Task.Delay(PingInterval, _disposed.Token), lost.Task);
                if (lost.Task.IsCompleted || _disposed.IsCancellationRequested)
                {
                    return;
                }
                await SendAsync("PING", [], CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is RedisTimeoutException or RedisConnectionException or IOException)
        {
            if (lost == _lost)
            {
                await LoseAsync(ex);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LoseAsync(Exception reason)
    {
        var lost = _lost;
        if (!lost.TrySetResult(reason))
        {
            return;
        }
        lock (_gate)
        {
            _ready = false;
        }
        var error = new RedisConnectionException($"Connection to Redis at {_options.EndPoint} lost: {reason.Message}", reason);
        lock (_gate)
        {
            while (_acks.TryDequeue(out var ack))
            {
                ack.TrySetException(error);
            }
        }
        if (_socket is { } socket)
        {
            await socket.DisposeAsync();
        }
    }

    private async Task SuperviseAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            var reason = await _lost.Task;
            if (_disposed.IsCancellationRequested)
            {
                return;
            }
            _lastError = reason.Message;
            RespLog.ConnectionLost(_logger, "pub/sub", _options.EndPoint, reason.Message);
            try
            {
                Disconnected?.Invoke();
            }
            catch (Exception ex)
            {
                RespLog.HandlerFailed(_logger, "(disconnected)", ex);
            }
            var channels = Array.Empty<string>();
            var attempts = await _policy.RetryAsync(
                async () =>
                {
                    Attach(await RedisSocket.ConnectAsync(_options, "sub", _disposed.Token));
                    var attached = _lost;
                    channels = [.. _handlers.Keys];
                    foreach (var batch in channels.Chunk(ResubscribeBatch))
                    {
                        await SendAsync("SUBSCRIBE", batch, _disposed.Token, stillWanted: _handlers.ContainsKey);
                    }
                    MarkReady(attached);
                },
                async ex =>
                {
                    _lastError = ex.Message;
                    if (!_lost.Task.IsCompleted)
                    {
                        await LoseAsync(ex);
                    }
                },
                _disposed.Token);
            if (attempts == 0)
            {
                return;
            }
            RespLog.Reconnected(_logger, "pub/sub", _options.EndPoint, attempts);
            RespLog.Resubscribed(_logger, channels.Length, _options.EndPoint);
            if (Reconnected is { } reconnected)
            {
                foreach (var callback in reconnected.GetInvocationList().Cast<Func<Task>>())
                {
                    _ = Task.Run(callback);
                }
            }
        }
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Resp;

/// <summary>
/// The multiplexed command connection: any number of concurrent callers share one socket. A single
/// writer loop copies queued commands to the socket and flushes once per batch (pipelining); the read
/// loop completes callers in order (Redis replies in command order). When the socket dies, every
/// waiting caller fails at once, new commands fail fast, and a background loop reconnects with back-off.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisConnectionOptions _options;
    private readonly ReconnectPolicy _policy;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private Session? _session;
    private Task? _supervisor;
    private string _lastError = "not connected yet";

    /// <summary>Creates the connection; nothing happens until <see cref="ConnectAsync"/>.</summary>
    /// <param name="options">Where and how to connect (see <see cref="RedisConnectionOptions.Parse"/>).</param>
    /// <param name="logger">Receives connection loss and reconnect messages.</param>
    public RedisConnection(RedisConnectionOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _policy = new ReconnectPolicy(options.MinReconnectDelay, options.MaxReconnectDelay);
    }

    /// <summary>The options this connection was created with.</summary>
    public RedisConnectionOptions Options => _options;

    /// <summary>True while the socket is up (commands fail fast while it is not).</summary>
    public bool IsConnected => _session is { IsAlive: true };

    /// <summary>Raised (on a pool thread) after a lost connection has been re-established.</summary>
    public event Action? Reconnected;

    /// <summary>Connects; throws <see cref="RedisConnectionException"/> when Redis cannot be reached. Later losses reconnect by themselves.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        var socket = await RedisSocket.ConnectAsync(_options, "cmd", cancellationToken);
        _session = new Session(socket, _options);
        _supervisor = SuperviseAsync();
    }

    /// <summary>Sends a command and returns its reply; error replies throw <see cref="RedisServerException"/>.</summary>
    public async Task<RespValue> ExecuteAsync(RespCommand command, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(command, cancellationToken);
        return reply.IsError ? throw new RedisServerException($"{command.Name} failed on {_options.EndPoint}: {reply.AsString()}", reply.AsString()) : reply;
    }

    /// <summary>Sends a command and returns its reply as is, error replies included.</summary>
    public async Task<RespValue> SendAsync(RespCommand command, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var session = _session;
        if (session is null || !session.IsAlive)
        {
            throw new RedisConnectionException($"Not connected to Redis at {_options.EndPoint} ({_lastError}); reconnecting.", unsent: true);
        }
        var pending = session.Enqueue(command);
        try
        {
            return await pending.WaitAsync(_options.CommandTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new RedisTimeoutException($"No reply to {command.Name} from Redis at {_options.EndPoint} within {_options.CommandTimeout.TotalMilliseconds:0} ms.");
        }
    }

    /// <summary>Closes the connection; waiting commands fail, and it does not reconnect.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        await _disposed.CancelAsync();
        if (_session is { } session)
        {
            await session.CloseAsync(new ObjectDisposedException(nameof(RedisConnection)));
        }
        if (_supervisor is not null)
        {
            await _supervisor;
        }
        _disposed.Dispose();
    }

    private async Task SuperviseAsync()
    {
        while (!_disposed.IsCancellationRequested)
        {
            var error = await _session!.Completion;
            if (_disposed.IsCancellationRequested)
            {
                return;
            }
            _lastError = error.Message;
            RespLog.ConnectionLost(_logger, "command", _options.EndPoint, error.Message);
            var attempts = await _policy.RetryAsync(
                async () => _session = new Session(await RedisSocket.ConnectAsync(_options, "cmd", _disposed.Token), _options),
                ex =>
                {
                    _lastError = ex.Message;
                    return Task.CompletedTask;
                },
                _disposed.Token);
            if (attempts == 0)
            {
                return;
            }
            RespLog.Reconnected(_logger, "command", _options.EndPoint, attempts);
            _ = Task.Run(() => Reconnected?.Invoke());
        }
    }

    /// <summary>One physical connection's worth of state: its socket, write queue and replies awaited in order.</summary>
    private sealed class Session
    {
        private readonly RedisSocket _socket;
        private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Queue<Pending> _inFlight = new();
        private readonly Lock _gate = new();
        private readonly TaskCompletionSource<Exception> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _endPoint;

        public Session(RedisSocket socket, RedisConnectionOptions options)
        {
            _socket = socket;
            _endPoint = options.EndPoint;
            _ = WriteLoopAsync();
            _ = ReadLoopAsync();
        }

        public bool IsAlive => !_completion.Task.IsCompleted;

        /// <summary>Completes with the error that ended this connection.</summary>
        public Task<Exception> Completion => _completion.Task;

        public Task<RespValue> Enqueue(RespCommand command)
        {
            var pending = new Pending(command);
            if (!_queue.Writer.TryWrite(pending))
            {
                pending.Fail(new RedisConnectionException($"Connection to Redis at {_endPoint} is closed.", unsent: true));
            }
            return pending.Task;
        }

        public async Task CloseAsync(Exception reason)
        {
            if (!_completion.TrySetResult(reason))
            {
                return;
            }
            _queue.Writer.TryComplete();
            var lost = new RedisConnectionException($"Connection to Redis at {_endPoint} lost: {reason.Message}", reason);
            var unsent = new RedisConnectionException($"Connection to Redis at {_endPoint} lost before the command was sent: {reason.Message}", reason, unsent: true);
            while (_queue.Reader.TryRead(out var queued))
            {
                queued.Fail(unsent);
            }
            lock (_gate)
            {
                while (_inFlight.TryDequeue(out var waiting))
                {
                    waiting.Fail(lost);
                }
            }
            await _socket.DisposeAsync();
        }

        private async Task WriteLoopAsync()
        {
            try
            {
                while (await _queue.Reader.WaitToReadAsync())
                {
                    while (_queue.Reader.TryRead(out var pending))
                    {
                        lock (_gate)
                        {
                            // CloseAsync marks the session dead before draining under this lock.
                            if (!IsAlive)
                            {
                                pending.Fail(new RedisConnectionException($"Connection to Redis at {_endPoint} is closed.", unsent: true));
                                continue;
                            }
                            _inFlight.Enqueue(pending);
                        }
                        _socket.Write(pending.Command.Encoded);
                    }
                    await _socket.FlushAsync();
                }
            }
            catch (Exception ex)
            {
                await CloseAsync(ex);
            }
        }

        private async Task ReadLoopAsync()
        {
            Exception reason;
            try
            {
                while (true)
                {
                    var reply = await _socket.ReadAsync();
                    if (reply is null)
                    {
                        reason = new RedisConnectionException($"Redis at {_endPoint} closed the connection.");
                        break;
                    }
                    Pending? pending;
                    lock (_gate)
                    {
                        _inFlight.TryDequeue(out pending);
                    }
                    if (pending is null)
                    {
                        reason = new RedisConnectionException($"Redis at {_endPoint} sent a reply nobody asked for.");
                        break;
                    }
                    pending.Complete(reply.Value);
                }
            }
            catch (Exception ex)
            {
                reason = ex;
            }
            await CloseAsync(reason);
        }
    }

    private sealed class Pending(RespCommand command)
    {
        private readonly TaskCompletionSource<RespValue> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RespCommand Command { get; } = command;

        public Task<RespValue> Task => _reply.Task;

        public void Complete(RespValue value) => _reply.TrySetResult(value);

        public void Fail(Exception error) => _reply.TrySetException(error);
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.Resp;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// The two Redis connections one app server uses (commands and pub/sub), shared by the hub lifetime
/// manager and the presence store, connected once behind one lock.
/// </summary>
internal sealed class RedisBackplane : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private bool _connected;

    public RedisBackplane(IOptions<RedisBackplaneOptions> options, ServerIdentity server, ILoggerFactory loggers)
    {
        Options = options.Value;
        Keys = new RedisKeys(Options.Prefix ?? throw new InvalidOperationException("The Redis prefix was not set."));
        ServerId = server.Id;
        var logger = loggers.CreateLogger("ServerEvents.Redis");
        Commands = new RedisConnection(Options.Connection, logger);
        Subscriber = new RedisSubscriber(Options.Connection, logger);
        Buffer = new NotificationBuffer(Options.MaxBufferedNotifications);
    }

    public RedisBackplaneOptions Options { get; }

    public RedisKeys Keys { get; }

    public string ServerId { get; }

    public RedisConnection Commands { get; }

    public RedisSubscriber Subscriber { get; }

    /// <summary>Notifications waiting for Redis to come back.</summary>
    public NotificationBuffer Buffer { get; }

    /// <summary>Local connections held until what they missed while pub/sub was down is replayed to them.</summary>
    public int AwaitingBackfill { get; set; }

    /// <summary>Connects both connections the first time; throws <see cref="RedisConnectionException"/> if Redis is unreachable.</summary>
    public async ValueTask EnsureConnectedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _connected))
        {
            return;
        }
        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            if (!_connected)
            {
                await Commands.ConnectAsync(cancellationToken);
                await RequireVersionAsync(cancellationToken);
                await Subscriber.ConnectAsync(cancellationToken);
                Volatile.Write(ref _connected, true);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    // The history scripts read stream fields XINFO has reported since 7.0 and call TIME before writing: on an older
    // server every resume would fail, so say so at start-up. A server that refuses INFO is given the benefit of the doubt.
    private async Task RequireVersionAsync(CancellationToken cancellationToken)
    {
        var info = await Commands.SendAsync(RespCommand.Create("INFO", "server"), cancellationToken);
        var line = info.IsError ? null : info.AsString()?.Split('\n').FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal));
        if (line is not null && Version.TryParse(line["redis_version:".Length..].Trim(), out var version) && version < new Version(7, 0))
        {
            await Commands.DisposeAsync();
            throw new RedisConnectionException($"Redis at {Options.Connection.EndPoint} is version {version}: Server Events needs Redis 7.0 or later.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Subscriber.DisposeAsync();
        await Commands.DisposeAsync();
        _connectLock.Dispose();
    }
}

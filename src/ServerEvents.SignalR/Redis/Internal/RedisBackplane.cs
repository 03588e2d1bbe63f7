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
    }

    public RedisBackplaneOptions Options { get; }

    public RedisKeys Keys { get; }

    public string ServerId { get; }

    public RedisConnection Commands { get; }

    public RedisSubscriber Subscriber { get; }

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
                await Subscriber.ConnectAsync(cancellationToken);
                Volatile.Write(ref _connected, true);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Subscriber.DisposeAsync();
        await Commands.DisposeAsync();
        _connectLock.Dispose();
    }
}

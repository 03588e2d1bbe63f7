using ServerEvents.Internal;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// The Redis connection one app server uses — a StackExchange.Redis multiplexer, its own or the app's — shared by the
/// hub lifetime manager and the presence store, connected once behind one lock, plus what both need to know of it.
/// </summary>
internal sealed class RedisBackplane : IAsyncDisposable
{
    private static readonly Version Required = new(7, 0);
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly IServiceProvider _services;
    private IConnectionMultiplexer? _multiplexer;
    private bool _owned;

    public RedisBackplane(IOptions<RedisBackplaneOptions> options, ServerIdentity server, ServerEventsMetrics metrics, IServiceProvider services)
    {
        Metrics = metrics;
        metrics.Observe(this);
        Options = options.Value;
        Keys = new RedisKeys(Options.Prefix ?? throw new InvalidOperationException("The Redis prefix was not set."));
        ServerId = server.Id;
        _services = services;
        Buffer = new NotificationBuffer(Options.MaxBufferedNotifications);
        EndPoint = Options.ConnectionFactory is null ? RedisConnectionString.Describe(Options.Configuration) : "(the app's multiplexer)";
    }

    public RedisBackplaneOptions Options { get; }

    /// <summary>The app's Server Events instruments; this back-end's state is observed through <see cref="ServerEventsMetrics.Observe"/>.</summary>
    public ServerEventsMetrics Metrics { get; }

    public RedisKeys Keys { get; }

    public string ServerId { get; }

    /// <summary>Where Redis is, for messages (never the password).</summary>
    public string EndPoint { get; private set; }

    public IConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("Redis is not connected yet.");

    public IDatabase Database => Multiplexer.GetDatabase();

    /// <summary>
    /// The multiplexer's channel prefix (<c>channelPrefix=</c>), which it puts before every channel it subscribes: the
    /// send script puts it before the inboxes it publishes to. Empty on a multiplexer we create (we clear it).
    /// </summary>
    public string ChannelPrefix { get; private set; } = "";

    /// <summary>Whether the command side can reach Redis now.</summary>
    public bool IsConnected => _multiplexer?.IsConnected == true;

    /// <summary>Notifications waiting for Redis to come back.</summary>
    public NotificationBuffer Buffer { get; }

    /// <summary>Local connections held until what they missed while the inbox was not read is replayed to them.</summary>
    public int AwaitingBackfill { get; set; }

    /// <summary>Whether this server's inbox is read now (set by the hub lifetime manager).</summary>
    public bool InboxLive { get; set; }

    /// <summary>What Redis turned out to be once connected: <c>standalone</c>, <c>cluster</c> or <c>sentinel</c> (<c>not connected</c> before).</summary>
    public string Mode { get; private set; } = "not connected";

    /// <summary>
    /// This server's inbox channel: a sharded channel (SSUBSCRIBE / SPUBLISH, Redis 7.0) on one redis-server and on a
    /// cluster alike; on a cluster it lives on the node of the keys' slot, so the send script can publish to it.
    /// </summary>
    public RedisChannel Inbox(string serverId) => RedisChannel.Sharded((string)Keys.Inbox(serverId)!);

    /// <summary>
    /// Connects the first time; throws <see cref="RedisUnreachableException"/> if Redis is unreachable, and
    /// <see cref="NotSupportedException"/> if it is older than 7.0.
    /// </summary>
    public async ValueTask EnsureConnectedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _multiplexer) is not null)
        {
            return;
        }
        await _connectLock.WaitAsync(cancellationToken);
        try
        {
            if (_multiplexer is not null)
            {
                return;
            }
            IConnectionMultiplexer multiplexer;
            if (Options.ConnectionFactory is { } factory)
            {
                multiplexer = factory(_services);
                EndPoint = string.Join(",", multiplexer.GetEndPoints().Select(EndPointCollection.ToString));
            }
            else
            {
                try
                {
                    multiplexer = await ConnectAsync(Options.Configuration).WaitAsync(cancellationToken);
                }
                catch (RedisConnectionException ex)
                {
                    // StackExchange.Redis's own message does not say where it tried.
                    throw new RedisUnreachableException($"Cannot connect to Redis at {EndPoint}: {ex.Message}", ex);
                }
                _owned = true;
            }
            try
            {
                RequireVersion(multiplexer);
            }
            catch
            {
                if (_owned)
                {
                    await multiplexer.DisposeAsync();
                }
                throw;
            }
            if (!_owned)
            {
                ChannelPrefix = (string?)ConfigurationOptions.Parse(multiplexer.Configuration).ChannelPrefix ?? "";
            }
            var types = multiplexer.GetServers().Select(s => s.ServerType).ToHashSet();
            Mode = types.Contains(ServerType.Cluster) ? "cluster" : types.Contains(ServerType.Sentinel) ? "sentinel" : "standalone";
            Volatile.Write(ref _multiplexer, multiplexer);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var options = configuration.Clone();
        // A notify made while Redis is unreachable is buffered by us (bounded, in order, published once), so commands
        // must fail at once rather than wait in the client's own backlog until they time out.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "server-events";
        // Replies and pub/sub messages complete on the .NET thread pool rather than the shared pool of ten dedicated
        // threads: one pool of threads to wake instead of two (measured: 15–20 % less server CPU per user-targeted
        // notify). StackExchange.Redis 3.x always works this way and makes the setting an obsolete no-op: drop it there.
        options.SocketManager ??= SocketManager.ThreadPool;
        // Our channel names are complete; a prefix would only have to be added back in the send script.
        options.ChannelPrefix = default;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    // The history scripts read stream fields XINFO has reported since 7.0, call TIME before writing, and a cluster's
    // inboxes are sharded channels (7.0): on an older server every resume would fail, so say so at start-up.
    private static void RequireVersion(IConnectionMultiplexer multiplexer)
    {
        foreach (var server in multiplexer.GetServers().Where(s => s.IsConnected))
        {
            RequireVersion(EndPointCollection.ToString(server.EndPoint), server.Version);
        }
    }

    /// <summary>Throws when <paramref name="version"/> (what the server at <paramref name="endPoint"/> reports) is older than 7.0.</summary>
    internal static void RequireVersion(string endPoint, Version version)
    {
        if (version < Required)
        {
            throw new NotSupportedException($"Redis at {endPoint} is version {version}: Server Events needs Redis 7.0 or later.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_owned && _multiplexer is { } multiplexer)
        {
            await multiplexer.DisposeAsync();
        }
        _connectLock.Dispose();
    }
}

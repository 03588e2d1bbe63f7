using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>
/// Settings of the Redis back-end, bound from the <c>ServerEvents:RedisBackplane</c> configuration section and set through
/// <c>AddRedis(…, o =&gt; …)</c>; checked at start-up.
/// </summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>The configuration section these options are bound from (<c>ServerEvents:RedisBackplane</c>).</summary>
    public const string ConfigurationSection = "ServerEvents:RedisBackplane";

    /// <summary>
    /// Where Redis is and how to connect (StackExchange.Redis's options: endpoints, password, TLS, timeouts, …); set
    /// by <c>AddRedis("host:port,…")</c> or <c>AddRedis(ConfigurationOptions)</c>. Unused when
    /// <see cref="ConnectionFactory"/> is set.
    /// </summary>
    public ConfigurationOptions Configuration { get; set; } = new();

    /// <summary>
    /// Hands the back-end a multiplexer the app already has (so that one serves the app, other hubs' backplanes and
    /// Server Events); set by <c>AddRedis(sp => …)</c>. The back-end does not dispose a multiplexer it was given.
    /// </summary>
    public Func<IServiceProvider, IConnectionMultiplexer>? ConnectionFactory { get; set; }

    /// <summary>
    /// Prefix of every Redis key and channel; servers with the same prefix share presence and messages.
    /// Defaults to <see cref="DefaultPrefix"/> (it does not depend on the hub's name, so renaming a class cannot split
    /// servers during a rolling deploy); give each app sharing one Redis its own. It becomes the keys' hash tag
    /// (<c>{serverevents}</c>), so that on a Redis Cluster all of them share one slot; a prefix that already contains
    /// <c>{…}</c> keeps its own tag.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>The prefix when none is set: <c>serverevents</c>.</summary>
    public const string DefaultPrefix = "serverevents";

    /// <summary>
    /// Reads what <c>AddRedis(string)</c> and <c>AddRedisFromConfiguration</c> accept — StackExchange.Redis's configuration
    /// string (<c>host:port,password=…,ssl=true</c>; several endpoints for a cluster) or a <c>redis://[user:password@]host:port/db</c>
    /// URL (<c>rediss://</c> for TLS) — so that an app connecting its own multiplexer takes the same settings.
    /// </summary>
    /// <param name="configuration">The string.</param>
    /// <returns>StackExchange.Redis's options.</returns>
    /// <exception cref="ArgumentException">It names no endpoint, or the URL is malformed (the message never shows the password).</exception>
    public static ConfigurationOptions ParseConfiguration(string configuration) => Internal.RedisConnectionString.Parse(configuration);

    /// <summary>How long a server waits for another server to acknowledge a group change of a connection it owns.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bytes of writes one local connection may have queued, as serialized for its protocol (1 MiB by default, as
    /// the SSE bridge's <c>MaxUnsentBytesPerStream</c>). A connection that would go past it is too slow to keep up and
    /// is closed, so it cannot hold up others or grow server memory without bound. A single write larger than this
    /// still goes out when nothing else waits.
    /// </summary>
    /// <remarks>
    /// Bytes rather than a count of writes: the same budget holds a few large events or many small ones, so a client
    /// that is briefly behind on a busy server (a few thousand small events) is not taken for one that stopped reading.
    /// </remarks>
    public long MaxPendingBytesPerConnection { get; set; } = 1024 * 1024;

    /// <summary>
    /// Notifications accepted while Redis is unreachable, to be published in order once it is back; the next one
    /// beyond this fails at once with a <see cref="RedisUnreachableException"/>. 0 fails every notification at once
    /// while Redis is down.
    /// </summary>
    public int MaxBufferedNotifications { get; set; } = 10_000;
}

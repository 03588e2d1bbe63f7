using ServerEvents.Resp;

namespace ServerEvents.Redis;

/// <summary>Settings of the Redis back-end (set through <c>AddRedis(…)</c>).</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>Where Redis is; parsed from a connection string by <c>AddRedis("host:port,…")</c>.</summary>
    public RedisConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// Prefix of every Redis key and channel; servers with the same prefix share presence and messages.
    /// Defaults to <c>se:{HubTypeName}</c>.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>How long a server waits for another server to acknowledge a group change of a connection it owns.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A local connection with more queued writes than this is too slow to keep up and is closed, so it
    /// cannot hold up others or grow server memory without bound.
    /// </summary>
    public int MaxPendingWritesPerConnection { get; set; } = 1000;

    /// <summary>
    /// Notifications accepted while Redis is unreachable, to be published in order once it is back; the next one
    /// beyond this fails at once with a <see cref="Resp.RedisConnectionException"/> whose <c>Unsent</c> is true.
    /// 0 fails every notification at once while Redis is down.
    /// </summary>
    public int MaxBufferedNotifications { get; set; } = 10_000;
}

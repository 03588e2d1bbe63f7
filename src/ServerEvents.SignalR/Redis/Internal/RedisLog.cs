using Microsoft.Extensions.Logging;

namespace ServerEvents.Redis.Internal;

/// <summary>Log messages of the Redis back-end, with stable event ids.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(200, LogLevel.Warning, "Connection {ConnectionId} closed: more than {MaxPendingBytes} bytes of writes were waiting for it (too slow to keep up).")]
    public static partial void SlowConnectionClosed(ILogger logger, string connectionId, long maxPendingBytes);

    [LoggerMessage(201, LogLevel.Warning, "Ignored a malformed backplane message: {Reason}")]
    public static partial void BadMessage(ILogger logger, string reason);

    [LoggerMessage(202, LogLevel.Warning, "Could not apply a group change for connection {ConnectionId} in {Group} requested by another server.")]
    public static partial void RemoteGroupChangeFailed(ILogger logger, string connectionId, string group, Exception exception);

    [LoggerMessage(203, LogLevel.Information, "Server {DeadServer} stopped refreshing its liveness key; removed {Count} of its subscriptions.")]
    public static partial void SweptDeadServer(ILogger logger, string deadServer, int count);

    [LoggerMessage(204, LogLevel.Information, "Redis came back: re-registered {Count} local subscriptions.")]
    public static partial void Restored(ILogger logger, int count);

    [LoggerMessage(205, LogLevel.Warning, "Presence housekeeping failed: {Reason}")]
    public static partial void HousekeepingFailed(ILogger logger, string reason);

    [LoggerMessage(206, LogLevel.Warning, "Redis is unreachable: notifications are buffered (up to {Capacity}) until it is back.")]
    public static partial void Buffering(ILogger logger, int capacity);

    [LoggerMessage(207, LogLevel.Information, "Published {Count} notifications buffered while Redis was unreachable.")]
    public static partial void BufferDrained(ILogger logger, long count);

    [LoggerMessage(208, LogLevel.Error, "Dropped a buffered notification Redis refused: {Reason}")]
    public static partial void BufferedRefused(ILogger logger, string reason);

    [LoggerMessage(209, LogLevel.Information, "Back-filled {Connections} connections after the pub/sub connection came back: {Events} events replayed, {Resets} told to reset.")]
    public static partial void BackFilled(ILogger logger, int connections, int events, int resets);

    [LoggerMessage(210, LogLevel.Warning, "Back-fill after the pub/sub reconnect failed, retrying on the next one: {Reason}")]
    public static partial void BackFillFailed(ILogger logger, string reason);

    [LoggerMessage(211, LogLevel.Warning, "This server's inbox missed messages (next sequence number {Sequence} does not follow the last): holding its connections and back-filling them.")]
    public static partial void InboxGap(ILogger logger, long sequence);

    [LoggerMessage(212, LogLevel.Warning, "This server's inbox subscription ended (unsubscribed on the shared multiplexer?): subscribing again.")]
    public static partial void InboxEnded(ILogger logger);

    [LoggerMessage(213, LogLevel.Error, "An inbox message could not be handled; reading on.")]
    public static partial void InboxMessageFailed(ILogger logger, Exception exception);

    [LoggerMessage(214, LogLevel.Warning, "Publishing a buffered notification failed unexpectedly, retrying: {Reason}")]
    public static partial void BufferedRetry(ILogger logger, string reason);
}

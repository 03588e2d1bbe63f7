using Microsoft.Extensions.Logging;

namespace ServerEvents.Resp;

/// <summary>Log messages of the Redis client, with stable event ids.</summary>
internal static partial class RespLog
{
    [LoggerMessage(100, LogLevel.Warning, "Redis {Role} connection to {EndPoint} lost: {Reason}. Reconnecting.")]
    public static partial void ConnectionLost(ILogger logger, string role, string endPoint, string reason);

    [LoggerMessage(101, LogLevel.Information, "Redis {Role} connection to {EndPoint} re-established after {Attempts} attempt(s).")]
    public static partial void Reconnected(ILogger logger, string role, string endPoint, int attempts);

    [LoggerMessage(102, LogLevel.Error, "A handler for Redis channel {Channel} failed.")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(103, LogLevel.Information, "Re-subscribed {Count} Redis channel(s) on {EndPoint}.")]
    public static partial void Resubscribed(ILogger logger, int count, string endPoint);
}

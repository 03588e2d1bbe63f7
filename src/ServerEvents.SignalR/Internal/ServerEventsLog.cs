using Microsoft.Extensions.Logging;

namespace ServerEvents.Internal;

/// <summary>All log messages of the core, with stable event ids.</summary>
internal static partial class ServerEventsLog
{
    [LoggerMessage(1, LogLevel.Debug, "Subscription {SubscriptionId} registered for user {UserId} in channels {Channels}.")]
    public static partial void Registered(ILogger logger, string subscriptionId, string userId, string channels);

    [LoggerMessage(2, LogLevel.Debug, "Subscription {SubscriptionId} of user {UserId} removed.")]
    public static partial void Removed(ILogger logger, string subscriptionId, string userId);

    [LoggerMessage(3, LogLevel.Information, "Subscription refused: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);
}

namespace ServerEvents;

/// <summary>Selector-less overloads: the selector is <c>cmd.{TypeName}</c> of the message, as in ServiceStack.</summary>
public static class ServerEventsExtensions
{
    /// <summary>Sends <paramref name="message"/> to every subscription with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifyAllAsync(this IServerEvents serverEvents, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifyAllAsync(null, message, cancellationToken);

    /// <summary>Sends <paramref name="message"/> to a channel with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="channel">Target channel.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifyChannelAsync(this IServerEvents serverEvents, string channel, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifyChannelAsync(channel, null, message, cancellationToken);

    /// <summary>Sends <paramref name="message"/> to one subscription with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="subscriptionId">Target subscription.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifySubscriptionAsync(this IServerEvents serverEvents, string subscriptionId, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifySubscriptionAsync(subscriptionId, null, message, null, cancellationToken);

    /// <summary>Sends <paramref name="message"/> to a user id with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="userId">Target user id.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifyUserIdAsync(this IServerEvents serverEvents, string userId, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifyUserIdAsync(userId, null, message, null, cancellationToken);

    /// <summary>Sends <paramref name="message"/> to a user name with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="userName">Target user name.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifyUserNameAsync(this IServerEvents serverEvents, string userName, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifyUserNameAsync(userName, null, message, null, cancellationToken);

    /// <summary>Sends <paramref name="message"/> to a session with selector <c>cmd.{TypeName}</c>.</summary>
    /// <param name="serverEvents">The API.</param>
    /// <param name="sessionId">Target session id.</param>
    /// <param name="message">Payload.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    public static Task NotifySessionAsync(this IServerEvents serverEvents, string sessionId, object message, CancellationToken cancellationToken = default) =>
        Api(serverEvents).NotifySessionAsync(sessionId, null, message, null, cancellationToken);

    private static IServerEvents Api(IServerEvents serverEvents)
    {
        ArgumentNullException.ThrowIfNull(serverEvents);
        return serverEvents;
    }
}

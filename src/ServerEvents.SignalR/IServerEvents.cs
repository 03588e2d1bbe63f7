namespace ServerEvents;

/// <summary>
/// The ServiceStack-shaped Server Events API: notify subscriptions by channel, user, session or id,
/// query presence, and change subscriptions at runtime. Inject it anywhere (controllers, minimal-API
/// handlers, background services, hubs); it works the same on the memory and the Redis back-end.
/// </summary>
/// <remarks>
/// <para>Every notify builds one <see cref="ServerEvent"/> envelope per target and hands it to SignalR's
/// <c>HubLifetimeManager</c>; the payload is serialized once per call.</para>
/// <para><b>Selectors</b>: <c>op.target</c> with no whitespace, <c>@</c> or control characters
/// (ServiceStack's client grammar). When <c>selector</c> is <see langword="null"/> the default is
/// <c>cmd.{TypeName}</c> of the message.</para>
/// <para><b>Channel filter</b>: the optional <c>channel</c> argument of the non-channel notifies only
/// restricts which subscriptions receive the event; the event itself carries no channel.</para>
/// <para>Invalid arguments throw <see cref="ArgumentException"/> and change nothing. Notifying a target
/// with no live subscription is not an error: subscriptions may leave at any moment.</para>
/// </remarks>
public interface IServerEvents
{
    /// <summary>
    /// Most distinct channels one call may name (<see cref="NotifyChannelsAsync"/>, <see cref="NotifyChannelsJsonAsync"/>,
    /// <see cref="GetSubscriptionsDetailsAsync"/>); more are refused with an <see cref="ArgumentException"/> before any work.
    /// </summary>
    public const int MaxChannelsPerCall = 1000;

    /// <summary>Sends <paramref name="message"/> to every subscription.</summary>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyAllAsync(string? selector, object message, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to every subscription.</summary>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyAllJsonAsync(string selector, string json, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to every subscription in <paramref name="channel"/>.</summary>
    /// <param name="channel">Target channel; the event carries it.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyChannelAsync(string channel, string? selector, object message, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to every subscription in <paramref name="channel"/>.</summary>
    /// <param name="channel">Target channel; the event carries it.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyChannelJsonAsync(string channel, string selector, string json, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends <paramref name="message"/> to each of <paramref name="channels"/>: one event per channel, so a
    /// subscription in two of them receives it twice, once per channel (as ServiceStack does).
    /// </summary>
    /// <param name="channels">Target channels (duplicates are sent once), at most <see cref="MaxChannelsPerCall"/>.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyChannelsAsync(IEnumerable<string> channels, string? selector, object message, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to each of <paramref name="channels"/>, one event per channel.</summary>
    /// <param name="channels">Target channels (duplicates are sent once), at most <see cref="MaxChannelsPerCall"/>.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyChannelsJsonAsync(IEnumerable<string> channels, string selector, string json, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to one subscription.</summary>
    /// <param name="subscriptionId">Target subscription id.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="channel">Optional filter: deliver only if the subscription is in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifySubscriptionAsync(string subscriptionId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to one subscription.</summary>
    /// <param name="subscriptionId">Target subscription id.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="channel">Optional filter: deliver only if the subscription is in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifySubscriptionJsonAsync(string subscriptionId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to every subscription of a user id (authenticated or anonymous <c>-N</c>).</summary>
    /// <param name="userId">Target user id.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="channel">Optional filter: only that user's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyUserIdAsync(string userId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to every subscription of a user id.</summary>
    /// <param name="userId">Target user id.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="channel">Optional filter: only that user's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyUserIdJsonAsync(string userId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to every subscription of an authenticated user name.</summary>
    /// <param name="userName">Target user name.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="channel">Optional filter: only that user's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyUserNameAsync(string userName, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to every subscription of an authenticated user name.</summary>
    /// <param name="userName">Target user name.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="channel">Optional filter: only that user's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifyUserNameJsonAsync(string userName, string selector, string json, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> to every subscription opened with a session id.</summary>
    /// <param name="sessionId">Target session id.</param>
    /// <param name="selector">Selector, or <see langword="null"/> for <c>cmd.{TypeName}</c>.</param>
    /// <param name="message">Payload, serialized to JSON once.</param>
    /// <param name="channel">Optional filter: only that session's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifySessionAsync(string sessionId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>Sends pre-serialized JSON to every subscription opened with a session id.</summary>
    /// <param name="sessionId">Target session id.</param>
    /// <param name="selector">Selector.</param>
    /// <param name="json">Well-formed JSON text, or empty for no body.</param>
    /// <param name="channel">Optional filter: only that session's subscriptions in this channel.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    Task NotifySessionJsonAsync(string sessionId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default);

    /// <summary>The subscription with this id, or <see langword="null"/>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<SubscriptionInfo?> GetSubscriptionInfoAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Every subscription of a user id.</summary>
    /// <param name="userId">User id (authenticated or anonymous).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<SubscriptionInfo>> GetSubscriptionInfosByUserIdAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Every subscription on every server.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<SubscriptionInfo>> GetAllSubscriptionInfosAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The public meta dictionaries (see <see cref="SubscriptionInfo.ToMeta"/>) of the subscriptions in any
    /// of <paramref name="channels"/>, one per subscription; none when no channel is given (as ServiceStack's
    /// <c>GetSubscriptionsDetails()</c>; <see cref="GetAllSubscriptionsDetailsAsync"/> lists everyone).
    /// </summary>
    /// <param name="channels">Channels to list; at most <see cref="MaxChannelsPerCall"/>.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<Dictionary<string, string>>> GetSubscriptionsDetailsAsync(IEnumerable<string> channels, CancellationToken cancellationToken = default);

    /// <summary>The public meta dictionaries of every subscription on every server.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<Dictionary<string, string>>> GetAllSubscriptionsDetailsAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of subscriptions in each channel that has any.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyDictionary<string, int>> GetChannelCountsAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds channels to a subscription and sends <c>cmd.onUpdate</c>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="channels">Channels to join; ones it is already in are ignored.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The updated subscription, or <see langword="null"/> (and nothing done) when there is no such subscription, as in ServiceStack.</returns>
    /// <exception cref="ArgumentException">A channel name is invalid or the channel limit would be exceeded.</exception>
    Task<SubscriptionInfo?> SubscribeToChannelsAsync(string subscriptionId, IEnumerable<string> channels, CancellationToken cancellationToken = default);

    /// <summary>Removes channels from a subscription and sends <c>cmd.onUpdate</c>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="channels">Channels to leave; ones it is not in are ignored.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The updated subscription, or <see langword="null"/> (and nothing done) when there is no such subscription, as in ServiceStack.</returns>
    /// <exception cref="ArgumentException">A channel name is invalid.</exception>
    Task<SubscriptionInfo?> UnsubscribeFromChannelsAsync(string subscriptionId, IEnumerable<string> channels, CancellationToken cancellationToken = default);

    /// <summary>Ends a subscription: removes it from presence, closes its connection and sends <c>cmd.onLeave</c>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The removed subscription, or <see langword="null"/> if there was none.</returns>
    Task<SubscriptionInfo?> UnRegisterAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Marks a subscription alive and sends it <c>cmd.onHeartbeat</c>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="cancellationToken">Cancels the pulse.</param>
    /// <returns><see langword="false"/> when there is no such subscription.</returns>
    Task<bool> PulseAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Next value of a named counter, atomic across all servers (ServiceStack's <c>GetNextSequence</c>).</summary>
    /// <param name="sequenceName">Counter name, e.g. <c>chatMsg</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<long> GetNextSequenceAsync(string sequenceName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops every registration and closes every connection, so clients reconnect as new subscriptions.
    /// Named sequences are kept.
    /// </summary>
    /// <param name="cancellationToken">Cancels the reset.</param>
    Task ResetAsync(CancellationToken cancellationToken = default);

    /// <summary>This app server's id among the servers sharing the back-end (as in <see cref="SubscriptionInfo.ServerId"/>).</summary>
    string ServerId { get; }

    /// <summary>Counters of this server plus the cluster-wide subscription count.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<ServerEventsStats> GetStatsAsync(CancellationToken cancellationToken = default);
}

namespace ServerEvents.Presence;

/// <summary>
/// Presence: the cluster-wide record of subscriptions, indexed by id, channel, user id, user name and
/// session. The memory store serves one app server; the Redis store shares presence between servers.
/// </summary>
/// <remarks>
/// A store only records; it never sends. Lifecycle events (join/leave/update) are published by the
/// caller through SignalR, so there is one delivery path. Every method is atomic on its own, and all
/// returned <see cref="SubscriptionInfo"/> objects are snapshots.
/// </remarks>
internal interface ISubscriptionStore
{
    /// <summary>Records a new subscription with all its indexes.</summary>
    /// <param name="subscription">The subscription; its id must be new.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task AddAsync(SubscriptionInfo subscription, CancellationToken cancellationToken = default);

    /// <summary>Removes a subscription and its index entries.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The removed subscription, or <see langword="null"/> when it was not there (so exactly one caller wins a race to remove).</returns>
    Task<SubscriptionInfo?> RemoveAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>The subscription with this id, or <see langword="null"/>.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<SubscriptionInfo?> GetAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Subscriptions matching one index key.</summary>
    /// <param name="index">Which index to read.</param>
    /// <param name="key">The user id, user name, session id or channel.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<SubscriptionInfo>> FindAsync(SubscriptionIndex index, string key, CancellationToken cancellationToken = default);

    /// <summary>Distinct subscriptions in any of <paramref name="channels"/>.</summary>
    /// <param name="channels">Channels to look in.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<SubscriptionInfo>> FindInChannelsAsync(IReadOnlyCollection<string> channels, CancellationToken cancellationToken = default);

    /// <summary>Every subscription.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyList<SubscriptionInfo>> GetAllAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of subscriptions.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<int> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of subscriptions per non-empty channel.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<IReadOnlyDictionary<string, int>> GetChannelCountsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes then adds channels atomically. Adding is refused (nothing changes) when the result would
    /// exceed <paramref name="maxChannels"/>.
    /// </summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="add">Channels to add (already-joined ones are ignored).</param>
    /// <param name="remove">Channels to remove (missing ones are ignored).</param>
    /// <param name="maxChannels">Upper bound on the resulting channel count.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The channels before and after, or <see langword="null"/> when the subscription does not exist.</returns>
    /// <exception cref="ArgumentException">The limit would be exceeded.</exception>
    Task<ChannelChange?> UpdateChannelsAsync(string subscriptionId, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, int maxChannels, CancellationToken cancellationToken = default);

    /// <summary>Sets the last-pulse time of a subscription.</summary>
    /// <param name="subscriptionId">Subscription id.</param>
    /// <param name="now">The pulse time.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="false"/> when the subscription does not exist.</returns>
    Task<bool> PulseAsync(string subscriptionId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Increments and returns a named counter.</summary>
    /// <param name="name">Counter name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Removes every subscription (named counters are kept).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    Task ClearAsync(CancellationToken cancellationToken = default);
}

/// <summary>The secondary indexes of a <see cref="ISubscriptionStore"/>.</summary>
internal enum SubscriptionIndex
{
    /// <summary>By channel name.</summary>
    Channel,

    /// <summary>By user id.</summary>
    UserId,

    /// <summary>By user name.</summary>
    UserName,

    /// <summary>By session id.</summary>
    Session,
}

/// <summary>The outcome of <see cref="ISubscriptionStore.UpdateChannelsAsync"/>.</summary>
/// <param name="Before">Channels before the change.</param>
/// <param name="After">The subscription after the change.</param>
internal sealed record ChannelChange(IReadOnlyList<string> Before, SubscriptionInfo After)
{
    /// <summary>Channels that were joined by this change.</summary>
    public IEnumerable<string> Joined => After.Channels.Except(Before, StringComparer.Ordinal);

    /// <summary>Channels that were left by this change.</summary>
    public IEnumerable<string> Left => Before.Except(After.Channels, StringComparer.Ordinal);

    /// <summary>Old and new channels together, each once.</summary>
    public IEnumerable<string> Merged => Before.Union(After.Channels, StringComparer.Ordinal);
}

using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Presence;

namespace ServerEvents;

/// <summary>
/// The <see cref="IServerEvents"/> implementation: validates, serializes once, and maps each target to
/// one SignalR send (all, a channel group, an identity group, or explicit connections when a channel
/// filter narrows the recipients through presence).
/// </summary>
internal sealed class HubServerEvents(
    IOptions<ServerEventsOptions> options,
    ISubscriptionStore store,
    EventDelivery delivery,
    SubscriptionLifecycle lifecycle,
    LocalConnections local,
    ServerIdentity server,
    Payloads payloads,
    ServerEventsMetrics metrics) : IServerEvents
{
    private readonly ChannelNameRules _channelNames = options.Value.ChannelNames;

    public Task NotifyAllAsync(string? selector, object message, CancellationToken cancellationToken = default)
    {
        var (resolved, json) = payloads.FromObject(selector, message);
        metrics.Notified("all", json);
        return delivery.ToAllAsync(resolved, json, cancellationToken);
    }

    public Task NotifyAllJsonAsync(string selector, string json, CancellationToken cancellationToken = default)
    {
        var body = payloads.FromJson(selector, json);
        metrics.Notified("all", body);
        return delivery.ToAllAsync(selector, body, cancellationToken);
    }

    public Task NotifyChannelAsync(string channel, string? selector, object message, CancellationToken cancellationToken = default)
    {
        _channelNames.Validate(channel);
        var (resolved, json) = payloads.FromObject(selector, message);
        metrics.Notified("channel", json);
        return delivery.ToChannelAsync(channel, resolved, json, cancellationToken);
    }

    public Task NotifyChannelJsonAsync(string channel, string selector, string json, CancellationToken cancellationToken = default)
    {
        _channelNames.Validate(channel);
        var body = payloads.FromJson(selector, json);
        metrics.Notified("channel", body);
        return delivery.ToChannelAsync(channel, selector, body, cancellationToken);
    }

    public Task NotifyChannelsAsync(IEnumerable<string> channels, string? selector, object message, CancellationToken cancellationToken = default)
    {
        var targets = ValidateChannels(channels);
        var (resolved, json) = payloads.FromObject(selector, message);
        metrics.Notified("channels", json);
        return ToChannelsAsync(targets, resolved, json, cancellationToken);
    }

    public Task NotifyChannelsJsonAsync(IEnumerable<string> channels, string selector, string json, CancellationToken cancellationToken = default)
    {
        var targets = ValidateChannels(channels);
        var body = payloads.FromJson(selector, json);
        metrics.Notified("channels", body);
        return ToChannelsAsync(targets, selector, body, cancellationToken);
    }

    public Task NotifySubscriptionAsync(string subscriptionId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ValidateFilter(channel);
        var (resolved, json) = payloads.FromObject(selector, message);
        metrics.Notified("subscription", json);
        return ToSubscriptionAsync(subscriptionId, resolved, json, channel, cancellationToken);
    }

    public Task NotifySubscriptionJsonAsync(string subscriptionId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ValidateFilter(channel);
        var body = payloads.FromJson(selector, json);
        metrics.Notified("subscription", body);
        return ToSubscriptionAsync(subscriptionId, selector, body, channel, cancellationToken);
    }

    public Task NotifyUserIdAsync(string userId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexAsync(SubscriptionIndex.UserId, userId, selector, message, channel, cancellationToken);

    public Task NotifyUserIdJsonAsync(string userId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexJsonAsync(SubscriptionIndex.UserId, userId, selector, json, channel, cancellationToken);

    public Task NotifyUserNameAsync(string userName, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexAsync(SubscriptionIndex.UserName, userName, selector, message, channel, cancellationToken);

    public Task NotifyUserNameJsonAsync(string userName, string selector, string json, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexJsonAsync(SubscriptionIndex.UserName, userName, selector, json, channel, cancellationToken);

    public Task NotifySessionAsync(string sessionId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexAsync(SubscriptionIndex.Session, sessionId, selector, message, channel, cancellationToken);

    public Task NotifySessionJsonAsync(string sessionId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default) =>
        NotifyIndexJsonAsync(SubscriptionIndex.Session, sessionId, selector, json, channel, cancellationToken);

    public Task<SubscriptionInfo?> GetSubscriptionInfoAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        return store.GetAsync(subscriptionId, cancellationToken);
    }

    public Task<IReadOnlyList<SubscriptionInfo>> GetSubscriptionInfosByUserIdAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        return store.FindAsync(SubscriptionIndex.UserId, userId, cancellationToken);
    }

    public Task<IReadOnlyList<SubscriptionInfo>> GetAllSubscriptionInfosAsync(CancellationToken cancellationToken = default) =>
        store.GetAllAsync(cancellationToken);

    public async Task<IReadOnlyList<Dictionary<string, string>>> GetSubscriptionsDetailsAsync(IEnumerable<string> channels, CancellationToken cancellationToken = default)
    {
        var wanted = ValidateChannels(channels);
        return wanted.Count == 0 ? [] : Meta(await store.FindInChannelsAsync(wanted, cancellationToken));
    }

    public async Task<IReadOnlyList<Dictionary<string, string>>> GetAllSubscriptionsDetailsAsync(CancellationToken cancellationToken = default) =>
        Meta(await store.GetAllAsync(cancellationToken));

    // A List, not a collection expression's hidden type: the hub returns it, and MessagePack cannot write that one.
    private static List<Dictionary<string, string>> Meta(IEnumerable<SubscriptionInfo> subscriptions) =>
        subscriptions.Select(s => s.ToMeta()).ToList();

    public Task<IReadOnlyDictionary<string, int>> GetChannelCountsAsync(CancellationToken cancellationToken = default) =>
        store.GetChannelCountsAsync(cancellationToken);

    public Task<SubscriptionInfo?> SubscribeToChannelsAsync(string subscriptionId, IEnumerable<string> channels, CancellationToken cancellationToken = default) =>
        IfFoundAsync(lifecycle.ChangeChannelsAsync(subscriptionId, channels, [], authorize: false, cancellationToken));

    public Task<SubscriptionInfo?> UnsubscribeFromChannelsAsync(string subscriptionId, IEnumerable<string> channels, CancellationToken cancellationToken = default) =>
        IfFoundAsync(lifecycle.ChangeChannelsAsync(subscriptionId, [], channels, authorize: false, cancellationToken));

    private static async Task<SubscriptionInfo?> IfFoundAsync(Task<SubscriptionInfo> change)
    {
        try
        {
            return await change;
        }
        catch (SubscriptionNotFoundException)
        {
            return null;
        }
    }

    public Task<SubscriptionInfo?> UnRegisterAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        return lifecycle.UnRegisterAsync(subscriptionId, cancellationToken);
    }

    public Task<bool> PulseAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        return lifecycle.PulseAsync(subscriptionId, cancellationToken);
    }

    public Task<long> GetNextSequenceAsync(string sequenceName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sequenceName);
        return store.NextSequenceAsync(sequenceName, cancellationToken);
    }

    public Task ResetAsync(CancellationToken cancellationToken = default) => lifecycle.ResetAsync(cancellationToken);

    public async Task<ServerEventsStats> GetStatsAsync(CancellationToken cancellationToken = default) => new(
        server.Id,
        await store.CountAsync(cancellationToken),
        local.Count,
        lifecycle.TotalConnections,
        lifecycle.TotalUnsubscriptions,
        delivery.NotificationsSent);

    private Task NotifyIndexAsync(SubscriptionIndex index, string key, string? selector, object message, string? channel, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ValidateFilter(channel);
        var (resolved, json) = payloads.FromObject(selector, message);
        metrics.Notified(TargetName(index), json);
        return ToIndexAsync(index, key, resolved, json, channel, cancellationToken);
    }

    private Task NotifyIndexJsonAsync(SubscriptionIndex index, string key, string selector, string json, string? channel, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ValidateFilter(channel);
        var body = payloads.FromJson(selector, json);
        metrics.Notified(TargetName(index), body);
        return ToIndexAsync(index, key, selector, body, channel, cancellationToken);
    }

    private static string TargetName(SubscriptionIndex index) => index switch
    {
        SubscriptionIndex.UserId => "user_id",
        SubscriptionIndex.UserName => "user_name",
        _ => "session",
    };

    private async Task ToIndexAsync(SubscriptionIndex index, string key, string selector, string json, string? channel, CancellationToken cancellationToken)
    {
        if (channel is null)
        {
            var group = index switch
            {
                SubscriptionIndex.UserId => GroupNames.UserId(key),
                SubscriptionIndex.UserName => GroupNames.UserName(key),
                _ => GroupNames.Session(key),
            };
            await delivery.ToIdentityGroupAsync(group, selector, json, cancellationToken);
            return;
        }
        // SignalR cannot intersect groups: presence narrows the target to explicit connections.
        var matches = await store.FindAsync(index, key, cancellationToken);
        var ids = matches.Where(s => s.Channels.Contains(channel, StringComparer.Ordinal)).Select(s => s.SubscriptionId).ToList();
        await delivery.ToConnectionsAsync(ids, selector, json, cancellationToken);
    }

    private async Task ToSubscriptionAsync(string subscriptionId, string selector, string json, string? channel, CancellationToken cancellationToken)
    {
        if (channel is not null)
        {
            var info = await store.GetAsync(subscriptionId, cancellationToken);
            if (info is null || !info.Channels.Contains(channel, StringComparer.Ordinal))
            {
                return;
            }
        }
        await delivery.ToConnectionAsync(subscriptionId, selector, json, cancellationToken);
    }

    private async Task ToChannelsAsync(IReadOnlyList<string> channels, string selector, string json, CancellationToken cancellationToken)
    {
        foreach (var channel in channels)
        {
            await delivery.ToChannelAsync(channel, selector, json, cancellationToken);
        }
    }

    private List<string> ValidateChannels(IEnumerable<string> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        var list = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            _channelNames.Validate(channel, nameof(channels));
            if (seen.Add(channel) && list.Count == IServerEvents.MaxChannelsPerCall)
            {
                // Bounded before any work: the Redis scripts take each channel as a key.
                throw new ArgumentException($"At most {IServerEvents.MaxChannelsPerCall} distinct channels may be named in one call.", nameof(channels));
            }
            if (list.Count < seen.Count)
            {
                list.Add(channel);
            }
        }
        return list;
    }

    private void ValidateFilter(string? channel)
    {
        if (channel is not null)
        {
            _channelNames.Validate(channel);
        }
    }
}

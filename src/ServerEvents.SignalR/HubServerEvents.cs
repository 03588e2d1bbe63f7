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
    ServerEventsMetrics metrics,
    ServerEventsHooks hooks) : IServerEvents
{
    private readonly ChannelNameRules _channelNames = options.Value.ChannelNames;

    public string ServerId => server.Id;

    public Task NotifyAllAsync(string? selector, object message, CancellationToken cancellationToken = default)
    {
        var (resolved, json) = payloads.FromObject(selector, message);
        return PublishAsync(new Notice(NotifyTarget.All, "all", null, resolved, null, json),
            (Api: this, Selector: resolved, Json: json, Token: cancellationToken), static s => s.Api.Delivery.ToAllAsync(s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifyAllJsonAsync(string selector, string json, CancellationToken cancellationToken = default)
    {
        var body = payloads.FromJson(selector, json);
        return PublishAsync(new Notice(NotifyTarget.All, "all", null, selector, null, body),
            (Api: this, Selector: selector, Json: body, Token: cancellationToken), static s => s.Api.Delivery.ToAllAsync(s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifyChannelAsync(string channel, string? selector, object message, CancellationToken cancellationToken = default)
    {
        _channelNames.Validate(channel);
        var (resolved, json) = payloads.FromObject(selector, message);
        return PublishAsync(new Notice(NotifyTarget.Channel, "channel", channel, resolved, null, json),
            (Api: this, Channel: channel, Selector: resolved, Json: json, Token: cancellationToken), static s => s.Api.Delivery.ToChannelAsync(s.Channel, s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifyChannelJsonAsync(string channel, string selector, string json, CancellationToken cancellationToken = default)
    {
        _channelNames.Validate(channel);
        var body = payloads.FromJson(selector, json);
        return PublishAsync(new Notice(NotifyTarget.Channel, "channel", channel, selector, null, body),
            (Api: this, Channel: channel, Selector: selector, Json: body, Token: cancellationToken), static s => s.Api.Delivery.ToChannelAsync(s.Channel, s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifyChannelsAsync(IEnumerable<string> channels, string? selector, object message, CancellationToken cancellationToken = default)
    {
        var targets = ValidateChannels(channels);
        var (resolved, json) = payloads.FromObject(selector, message);
        return PublishAsync(new Notice(NotifyTarget.Channel, "channels", null, resolved, null, json, targets),
            (Api: this, Channels: targets, Selector: resolved, Json: json, Token: cancellationToken), static s => s.Api.ToChannelsAsync(s.Channels, s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifyChannelsJsonAsync(IEnumerable<string> channels, string selector, string json, CancellationToken cancellationToken = default)
    {
        var targets = ValidateChannels(channels);
        var body = payloads.FromJson(selector, json);
        return PublishAsync(new Notice(NotifyTarget.Channel, "channels", null, selector, null, body, targets),
            (Api: this, Channels: targets, Selector: selector, Json: body, Token: cancellationToken), static s => s.Api.ToChannelsAsync(s.Channels, s.Selector, s.Json, s.Token), cancellationToken);
    }

    public Task NotifySubscriptionAsync(string subscriptionId, string? selector, object message, string? channel = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ValidateFilter(channel);
        var (resolved, json) = payloads.FromObject(selector, message);
        return PublishAsync(new Notice(NotifyTarget.Subscription, "subscription", subscriptionId, resolved, channel, json),
            (Api: this, Id: subscriptionId, Selector: resolved, Json: json, Channel: channel, Token: cancellationToken),
            static s => s.Api.ToSubscriptionAsync(s.Id, s.Selector, s.Json, s.Channel, s.Token), cancellationToken);
    }

    public Task NotifySubscriptionJsonAsync(string subscriptionId, string selector, string json, string? channel = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        ValidateFilter(channel);
        var body = payloads.FromJson(selector, json);
        return PublishAsync(new Notice(NotifyTarget.Subscription, "subscription", subscriptionId, selector, channel, body),
            (Api: this, Id: subscriptionId, Selector: selector, Json: body, Channel: channel, Token: cancellationToken),
            static s => s.Api.ToSubscriptionAsync(s.Id, s.Selector, s.Json, s.Channel, s.Token), cancellationToken);
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
        IfFoundAsync(lifecycle.ChangeChannelsAsync(subscriptionId, channels, [], caller: null, cancellationToken));

    public Task<SubscriptionInfo?> UnsubscribeFromChannelsAsync(string subscriptionId, IEnumerable<string> channels, CancellationToken cancellationToken = default) =>
        IfFoundAsync(lifecycle.ChangeChannelsAsync(subscriptionId, [], channels, caller: null, cancellationToken));

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
        return PublishAsync(new Notice(TargetOf(index), TargetName(index), key, resolved, channel, json),
            (Api: this, Index: index, Key: key, Selector: resolved, Json: json, Channel: channel, Token: cancellationToken),
            static s => s.Api.ToIndexAsync(s.Index, s.Key, s.Selector, s.Json, s.Channel, s.Token), cancellationToken);
    }

    private Task NotifyIndexJsonAsync(SubscriptionIndex index, string key, string selector, string json, string? channel, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ValidateFilter(channel);
        var body = payloads.FromJson(selector, json);
        return PublishAsync(new Notice(TargetOf(index), TargetName(index), key, selector, channel, body),
            (Api: this, Index: index, Key: key, Selector: selector, Json: body, Channel: channel, Token: cancellationToken),
            static s => s.Api.ToIndexAsync(s.Index, s.Key, s.Selector, s.Json, s.Channel, s.Token), cancellationToken);
    }

    private static NotifyTarget TargetOf(SubscriptionIndex index) => index switch
    {
        SubscriptionIndex.UserId => NotifyTarget.UserId,
        SubscriptionIndex.UserName => NotifyTarget.UserName,
        _ => NotifyTarget.Session,
    };

    private EventDelivery Delivery => delivery;

    // When the app has a publish hook, runs it first (if it throws, nothing is sent or counted); counts the notify. The
    // send is a static lambda over a state tuple, so that a notify without a hook allocates nothing for it.
    private Task PublishAsync<TState>(Notice notice, TState state, Func<TState, Task> send, CancellationToken cancellationToken)
    {
        if (!hooks.HasPublishHook)
        {
            metrics.Notified(notice.Metric, notice.Json);
            return send(state);
        }
        return HookThenSendAsync(notice, state, send, cancellationToken);
    }

    private async Task HookThenSendAsync<TState>(Notice notice, TState state, Func<TState, Task> send, CancellationToken cancellationToken)
    {
        var to = notice.To ?? (notice.Channels is { } channels ? string.Join(',', channels) : null);
        await hooks.RunAsync(null, (events, services) =>
            events.PublishAsync(new PublishContext(notice.Target, to, notice.Selector, notice.Channel, notice.Json, services, cancellationToken)));
        metrics.Notified(notice.Metric, notice.Json);
        await send(state);
    }

    /// <summary>What the publish hook and the metrics see of a notify; a multi-channel target is joined only for the hook.</summary>
    private readonly record struct Notice(NotifyTarget Target, string Metric, string? To, string Selector, string? Channel, string Json, IReadOnlyList<string>? Channels = null);

    private static string TargetName(SubscriptionIndex index) => index switch
    {
        SubscriptionIndex.UserId => "user_id",
        SubscriptionIndex.UserName => "user_name",
        _ => "session",
    };

    private Task ToIndexAsync(SubscriptionIndex index, string key, string selector, string json, string? channel, CancellationToken cancellationToken)
    {
        if (channel is not null)
        {
            return ToIndexInChannelAsync(index, key, selector, json, channel, cancellationToken);
        }
        var group = index switch
        {
            SubscriptionIndex.UserId => GroupNames.UserId(key),
            SubscriptionIndex.UserName => GroupNames.UserName(key),
            _ => GroupNames.Session(key),
        };
        // Handed on as it is: the common notify costs no state machine of its own here.
        return delivery.ToIdentityGroupAsync(group, selector, json, cancellationToken);
    }

    // SignalR cannot intersect groups: presence narrows the target to explicit connections.
    private async Task ToIndexInChannelAsync(SubscriptionIndex index, string key, string selector, string json, string channel, CancellationToken cancellationToken)
    {
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

    // Bounded before any work: the Redis scripts take each channel as a key.
    private List<string> ValidateChannels(IEnumerable<string> channels) => _channelNames.ValidateList(channels, IServerEvents.MaxChannelsPerCall);

    private void ValidateFilter(string? channel)
    {
        if (channel is not null)
        {
            _channelNames.Validate(channel);
        }
    }
}

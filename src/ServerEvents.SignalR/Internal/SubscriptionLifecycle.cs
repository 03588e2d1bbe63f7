using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.History;
using ServerEvents.Presence;

namespace ServerEvents.Internal;

/// <summary>
/// Registers, changes and removes subscriptions: keeps presence (the store), SignalR groups and the
/// lifecycle events (<c>cmd.onConnect/onJoin/onLeave/onUpdate/onHeartbeat</c>) in step.
/// </summary>
internal sealed class SubscriptionLifecycle(
    IOptions<ServerEventsOptions> options,
    ISubscriptionStore store,
    EventDelivery delivery,
    LocalConnections local,
    ConnectionControl control,
    SubscriptionFactory factory,
    TimeProvider time,
    ServerEventsMetrics metrics,
    ILogger<SubscriptionLifecycle> logger)
{
    /// <summary>Sent to a resuming client whose last event id is older than the kept history.</summary>
    public const string ResetSelector = ResetNotice.Selector;

    private readonly ServerEventsOptions _options = options.Value;

    // Channel changes of one subscription are applied one at a time so groups follow the store.
    private readonly StripedLock _locks = new();
    private long _totalConnections;
    private long _totalUnsubscriptions;

    public long TotalConnections => Interlocked.Read(ref _totalConnections);

    public long TotalUnsubscriptions => Interlocked.Read(ref _totalUnsubscriptions);

    /// <summary>Turns a new hub connection into a subscription; throws <see cref="HubException"/> to refuse it.</summary>
    public async Task ConnectAsync(HubCallerContext context)
    {
        var http = context.GetHttpContext()
            ?? throw new HubException("Server Events subscriptions need an HTTP request.");
        var cancellationToken = context.ConnectionAborted;
        SubscriptionInfo info;
        long? lastEventId;
        try
        {
            var channels = factory.ChannelsFromQuery(http.Request.Query);
            lastEventId = LastEventId(http);
            info = await factory.CreateAsync(context.ConnectionId, http, channels, cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw new HubException(ex.Message);
        }
        if (_options.LimitToAuthenticatedUsers && !info.IsAuthenticated)
        {
            metrics.Refused(RefusalLog.NotAuthenticated);
            throw new HubException("Not authenticated: this server accepts subscriptions from authenticated users only.");
        }
        if (_options.OnCreated is { } onCreated)
        {
            await onCreated(info, http);
        }
        try
        {
            await AuthorizeAsync(info, info.Channels);
        }
        catch (ChannelAccessDeniedException ex)
        {
            metrics.Refused(RefusalLog.ChannelDenied);
            throw new HubException(ex.Message);
        }
        await RegisterAsync(info, lastEventId, () => local.Add(context), cancellationToken);
    }

    /// <summary>
    /// The last event id a resuming client saw: EventSource's <c>Last-Event-ID</c> header on an SSE reconnect,
    /// or a <c>lastEventId</c> query parameter (hub clients, or an SSE client that starts afresh).
    /// </summary>
    /// <exception cref="ArgumentException">The value is not an event id (the message shows it cut short).</exception>
    public static long? LastEventId(HttpContext http)
    {
        // The header first: EventSource keeps the URL it started with (and any lastEventId in it) when it reconnects
        // by itself, but sends the id it last saw in the header.
        var value = http.Request.Headers["Last-Event-ID"].FirstOrDefault() ?? http.Request.Query["lastEventId"].FirstOrDefault();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ArgumentException($"lastEventId must be an event id (a non-negative integer), not '{RefusalLog.Truncate(value)}'.");
    }

    /// <summary>Removes a hub connection's subscription after it disconnected (no-op if already removed).</summary>
    public async Task DisconnectAsync(string connectionId)
    {
        local.Remove(connectionId);
        await RemoveAsync(connectionId, CancellationToken.None);
    }

    /// <summary>Ends a subscription on request: presence first (so exactly one caller wins), then the connection.</summary>
    public async Task<SubscriptionInfo?> UnRegisterAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var removed = await RemoveAsync(subscriptionId, cancellationToken);
        if (removed is not null)
        {
            await control.CloseAsync(subscriptionId, cancellationToken);
        }
        return removed;
    }

    /// <summary>Applies a channel change; <paramref name="authorize"/> runs the app's channel hook (client requests only).</summary>
    public async Task<SubscriptionInfo> ChangeChannelsAsync(string subscriptionId, IEnumerable<string> add, IEnumerable<string> remove, bool authorize, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var toAdd = factory.Validate(add);
        var toRemove = factory.Validate(remove);
        using (await _locks.LockAsync(subscriptionId, cancellationToken))
        {
            if (authorize && toAdd.Count > 0)
            {
                var current = await store.GetAsync(subscriptionId, cancellationToken)
                    ?? throw new SubscriptionNotFoundException(subscriptionId);
                await AuthorizeAsync(current, toAdd.Except(current.Channels, StringComparer.Ordinal));
            }
            var change = await store.UpdateChannelsAsync(subscriptionId, toAdd, toRemove, _options.MaxChannelsPerSubscription, cancellationToken)
                ?? throw new SubscriptionNotFoundException(subscriptionId);
            var updated = change.After;
            foreach (var channel in change.Joined)
            {
                await delivery.AddToGroupAsync(subscriptionId, channel, cancellationToken);
            }
            // onUpdate goes to old and new channels alike, while the subscription is still in both.
            if (_options.NotifyChannelOfSubscriptions && (change.Joined.Any() || change.Left.Any()))
            {
                var meta = Json(updated.ToMeta());
                foreach (var channel in change.Merged)
                {
                    await delivery.ToChannelAsync(channel, "cmd.onUpdate", meta, cancellationToken);
                }
            }
            foreach (var channel in change.Left)
            {
                await delivery.RemoveFromGroupAsync(subscriptionId, channel, cancellationToken);
            }
            if (_options.OnUpdate is { } onUpdate)
            {
                await onUpdate(updated);
            }
            return updated;
        }
    }

    /// <summary>Marks a subscription alive and answers it with <c>cmd.onHeartbeat</c>.</summary>
    public async Task<bool> PulseAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        if (!await store.PulseAsync(subscriptionId, time.GetUtcNow(), cancellationToken))
        {
            return false;
        }
        var info = await store.GetAsync(subscriptionId, cancellationToken);
        if (info is not null)
        {
            await delivery.ToConnectionAsync(subscriptionId, "cmd.onHeartbeat", Json(info.ToMeta()), cancellationToken);
        }
        return true;
    }

    /// <summary>Drops every registration and closes this server's connections so clients come back fresh.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await store.ClearAsync(cancellationToken);
        await control.CloseAllAsync(cancellationToken);
    }

    private async Task RegisterAsync(SubscriptionInfo info, long? lastEventId, Action attach, CancellationToken cancellationToken)
    {
        var id = info.SubscriptionId;
        var connect = info.ToMeta();
        connect["id"] = id;
        connect["heartbeatIntervalMs"] = Milliseconds(_options.HeartbeatInterval);
        connect["idleTimeoutMs"] = Milliseconds(_options.IdleTimeout);
        foreach (var (key, value) in info.ConnectArgs)
        {
            connect[key] = value;
        }
        if (_options.OnConnect is { } onConnect)
        {
            await onConnect(info, connect);
        }

        attach();
        var added = false;
        try
        {
            await store.AddAsync(info, cancellationToken);
            added = true;
            // Counted once registered: the client may see onConnect (next) before this method returns.
            Interlocked.Increment(ref _totalConnections);
            // onConnect is the first event, and once the client has it, it is in every group on every server. A resuming
            // client then gets what it missed, or — where history no longer reaches back — cmd.onReset in its place.
            var replay = await delivery.ConnectAsync(id, [.. info.Channels, .. GroupNames.IdentityGroups(info), GroupNames.All], lastEventId, Json(connect), cancellationToken);
            if (lastEventId is not null)
            {
                metrics.Resumed(replay);
            }
        }
        catch (ArgumentException) when (!added)
        {
            // A duplicate id belongs to someone else: leave their entry alone.
            local.Remove(id);
            throw;
        }
        catch
        {
            // Also when the add was cancelled: it may have reached the store before the cancellation.
            local.Remove(id);
            await store.RemoveAsync(id, CancellationToken.None);
            throw;
        }
        ServerEventsLog.Registered(logger, id, info.UserId, string.Join(',', info.Channels));

        // The subscription is now in presence: announce it even if the caller has gone meanwhile
        // (its leave follows), and if announcing fails undo it here, because SignalR does not call
        // OnDisconnectedAsync for a connection whose OnConnectedAsync threw.
        try
        {
            if (_options.OnSubscribe is { } onSubscribe)
            {
                await onSubscribe(info);
            }
            if (_options.NotifyChannelOfSubscriptions)
            {
                var meta = Json(info.ToMeta());
                foreach (var channel in info.Channels)
                {
                    await delivery.ToChannelAsync(channel, "cmd.onJoin", meta, CancellationToken.None);
                }
            }
        }
        catch
        {
            local.Remove(id);
            await RemoveAsync(id, CancellationToken.None);
            throw;
        }
    }

    private async Task<SubscriptionInfo?> RemoveAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var removed = await store.RemoveAsync(subscriptionId, cancellationToken);
        if (removed is null)
        {
            return null;
        }
        Interlocked.Increment(ref _totalUnsubscriptions);
        ServerEventsLog.Removed(logger, subscriptionId, removed.UserId);
        // Leave the channel groups first: onLeave is for the subscriptions that remain.
        foreach (var channel in removed.Channels)
        {
            await delivery.RemoveFromGroupAsync(subscriptionId, channel, cancellationToken);
        }
        if (_options.NotifyChannelOfSubscriptions)
        {
            var meta = Json(removed.ToMeta());
            foreach (var channel in removed.Channels)
            {
                await delivery.ToChannelAsync(channel, "cmd.onLeave", meta, cancellationToken);
            }
        }
        if (_options.OnUnsubscribe is { } onUnsubscribe)
        {
            await onUnsubscribe(removed);
        }
        return removed;
    }

    private async Task AuthorizeAsync(SubscriptionInfo info, IEnumerable<string> channels)
    {
        if (_options.AuthorizeChannel is not { } authorize)
        {
            return;
        }
        foreach (var channel in channels)
        {
            if (!await authorize(info, channel))
            {
                throw new ChannelAccessDeniedException(channel);
            }
        }
    }

    private static string Milliseconds(TimeSpan span) =>
        ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private static string Json(Dictionary<string, string> values) =>
        JsonSerializer.Serialize(values, ServerEventsJson.Default.DictionaryStringString);
}

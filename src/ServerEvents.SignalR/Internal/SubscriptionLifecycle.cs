using System.Globalization;
using System.Security.Claims;
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
    ServerEventsHooks hooks,
    ILogger<SubscriptionLifecycle> logger)
{
    // Where a hub connection keeps its subscription as registered, for the hooks that run when it ends.
    private static readonly object SubscriptionKey = new();

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
    /// <param name="context">The connection.</param>
    /// <param name="services">The connection's scope, for the app's hooks.</param>
    public async Task ConnectAsync(HubCallerContext context, IServiceProvider services)
    {
        var http = context.GetHttpContext()
            ?? throw new HubException("Server Events subscriptions need an HTTP request.");
        var cancellationToken = context.ConnectionAborted;
        SubscriptionInfo? info = null;
        // Refused before any work (or the app's hooks) is done for it.
        if (_options.LimitToAuthenticatedUsers && (context.User ?? http.User).Identity?.IsAuthenticated != true)
        {
            metrics.Refused(RefusalLog.NotAuthenticated);
            throw new HubException("Not authenticated: this server accepts subscriptions from authenticated users only.");
        }
        try
        {
            await hooks.RunAsync(services, (events, sp) => events.InitAsync(new SubscriptionInitContext(http, sp, cancellationToken)));
            long? lastEventId;
            try
            {
                var channels = factory.ChannelsFromQuery(http.Request.Query);
                lastEventId = LastEventId(http);
                info = await factory.CreateAsync(context.ConnectionId, context.UserIdentifier, http, channels, cancellationToken);
            }
            catch (ArgumentException ex)
            {
                throw new HubException(ex.Message);
            }
            var created = info;
            await hooks.RunAsync(services, (events, sp) => events.CreatedAsync(new SubscriptionContext(created, http, sp, cancellationToken)));
            try
            {
                // After the hook, which may have changed the channels: the rules and limits hold for what it left.
                info.Channels = info.Channels.Count == 0 ? ["*"] : factory.Validate(info.Channels);
                await AuthorizeAsync(info.Channels, ChannelAccess.Join, info, new ChannelCaller(context.User ?? http.User, http, services), cancellationToken);
            }
            catch (ArgumentException ex)
            {
                throw new HubException(ex.Message);
            }
            catch (ChannelAccessDeniedException ex)
            {
                metrics.Refused(RefusalLog.ChannelDenied);
                throw new HubException(ex.Message);
            }
            context.Items[SubscriptionKey] = info;
            await RegisterAsync(info, lastEventId, () => local.Add(context), http, services, cancellationToken);
        }
        catch (SubscriptionRefusedException ex)
        {
            metrics.Refused(RefusalLog.RefusedByApp);
            throw new HubException(ex.Message);
        }
        catch (Exception ex) when (ex is not HubException and not OperationCanceledException)
        {
            var failed = info;
            await hooks.RunLoggedAsync(nameof(SubscriptionEvents.OnError), services,
                (events, sp) => events.ErrorAsync(new SubscriptionErrorContext(failed, ex, sp, CancellationToken.None)));
            throw;
        }
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

    /// <summary>
    /// Removes a hub connection's subscription after it disconnected (if not already removed), then runs the app's
    /// connection-end hooks: <c>OnError</c> when it ended with an error, and <c>OnDispose</c>.
    /// </summary>
    /// <param name="context">The connection.</param>
    /// <param name="exception">Why it ended, if by an error.</param>
    /// <param name="services">The connection's scope, for the app's hooks.</param>
    public async Task DisconnectAsync(HubCallerContext context, Exception? exception, IServiceProvider services)
    {
        local.Remove(context.ConnectionId);
        var removed = await RemoveAsync(context.ConnectionId, services, CancellationToken.None);
        // Removed now, or before by an unregister (which closed this connection): the hooks still run, once, here.
        if ((removed ?? context.Items[SubscriptionKey] as SubscriptionInfo) is not { } info)
        {
            return;
        }
        var http = context.GetHttpContext();
        if (exception is not null)
        {
            await hooks.RunLoggedAsync(nameof(SubscriptionEvents.OnError), services,
                (events, sp) => events.ErrorAsync(new SubscriptionErrorContext(info, exception, sp, CancellationToken.None)));
        }
        await hooks.RunLoggedAsync(nameof(SubscriptionEvents.OnDispose), services,
            (events, sp) => events.DisposedAsync(new SubscriptionContext(info, http, sp, CancellationToken.None)));
    }

    /// <summary>Ends a subscription on request: presence first (so exactly one caller wins), then the connection.</summary>
    public async Task<SubscriptionInfo?> UnRegisterAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var removed = await RemoveAsync(subscriptionId, null, cancellationToken);
        if (removed is not null)
        {
            await control.CloseAsync(subscriptionId, cancellationToken);
        }
        return removed;
    }

    /// <summary>
    /// Applies a channel change. A client's request (<paramref name="caller"/> set) is authorized by the app's channel hook;
    /// the server's own calls (null) are trusted.
    /// </summary>
    public async Task<SubscriptionInfo> ChangeChannelsAsync(string subscriptionId, IEnumerable<string> add, IEnumerable<string> remove, ChannelCaller? caller, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var toAdd = factory.Validate(add);
        var toRemove = factory.Validate(remove);
        using (await _locks.LockAsync(subscriptionId, cancellationToken))
        {
            if (caller is not null && toAdd.Count > 0)
            {
                var current = await store.GetAsync(subscriptionId, cancellationToken)
                    ?? throw new SubscriptionNotFoundException(subscriptionId);
                await AuthorizeAsync(toAdd.Except(current.Channels, StringComparer.Ordinal), ChannelAccess.Join, current, caller, cancellationToken);
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
            await hooks.RunAsync(caller?.Services, (events, sp) => events.UpdateAsync(new SubscriptionContext(updated, caller?.Http, sp, cancellationToken)));
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

    private async Task RegisterAsync(SubscriptionInfo info, long? lastEventId, Action attach, HttpContext http, IServiceProvider services, CancellationToken cancellationToken)
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
        await hooks.RunAsync(services, (events, sp) => events.ConnectAsync(new SubscriptionConnectContext(info, connect, http, sp, cancellationToken)));

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
            await hooks.RunAsync(services, (events, sp) => events.SubscribeAsync(new SubscriptionContext(info, http, sp, CancellationToken.None)));
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
            await RemoveAsync(id, services, CancellationToken.None);
            throw;
        }
    }

    private async Task<SubscriptionInfo?> RemoveAsync(string subscriptionId, IServiceProvider? services, CancellationToken cancellationToken)
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
        await hooks.RunLoggedAsync(nameof(SubscriptionEvents.OnUnsubscribe), services,
            (events, sp) => events.UnsubscribeAsync(new SubscriptionContext(removed, null, sp, cancellationToken)));
        return removed;
    }

    /// <summary>
    /// Checks a client's request to list subscribers: the names first (each once, at most
    /// <see cref="IServerEvents.MaxChannelsPerCall"/>, so a client cannot make the app's hook run without bound), then the
    /// app's hook for each — or once with a null channel when no channel is named (a list of everyone). Returns the
    /// channels to list (empty: everyone).
    /// </summary>
    /// <exception cref="ArgumentException">A name is invalid, or too many are named.</exception>
    /// <exception cref="ChannelAccessDeniedException">The app refused one.</exception>
    public async Task<List<string>> AuthorizeListAsync(IEnumerable<string>? channels, SubscriptionInfo? subscription, ChannelCaller caller, CancellationToken cancellationToken)
    {
        var listed = _options.ChannelNames.ValidateList(channels ?? [], IServerEvents.MaxChannelsPerCall);
        var asked = listed.Count == 0 ? new string?[] { null } : listed.ToArray<string?>();
        await AuthorizeAsync(asked, ChannelAccess.List, subscription, caller, cancellationToken);
        return listed;
    }

    /// <summary>
    /// Asks the app's channel hook about each channel (a null channel: every channel, for a list of everyone); throws
    /// <see cref="ChannelAccessDeniedException"/> for the first one refused.
    /// </summary>
    public async Task AuthorizeAsync(IEnumerable<string?> channels, ChannelAccess access, SubscriptionInfo? subscription, ChannelCaller caller, CancellationToken cancellationToken)
    {
        foreach (var channel in channels)
        {
            var allowed = await hooks.RunAsync(caller.Services, (events, sp) =>
                events.AuthorizeChannelAsync(new ChannelAuthorizationContext(channel, access, subscription, caller.Http, caller.User, sp, cancellationToken)));
            if (!allowed)
            {
                throw new ChannelAccessDeniedException(channel, access);
            }
        }
    }

    private static string Milliseconds(TimeSpan span) =>
        ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private static string Json(Dictionary<string, string> values) =>
        JsonSerializer.Serialize(values, ServerEventsJson.Default.DictionaryStringString);
}

/// <summary>Who asks for a channel change or list: the user, their request and their services.</summary>
internal sealed record ChannelCaller(ClaimsPrincipal User, HttpContext? Http, IServiceProvider Services);

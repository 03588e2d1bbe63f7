using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace ServerEvents;

/// <summary>Settings and hooks of the Server Events feature, configured in <c>AddServerEvents(options =&gt; …)</c>.</summary>
public sealed class ServerEventsOptions
{
    /// <summary>A subscription not heard from for this long is removed (advertised to clients as <c>idleTimeoutMs</c>).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often clients should send a heartbeat (advertised to clients as <c>heartbeatIntervalMs</c>).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often presence housekeeping runs (server liveness, sweeping what dead servers and idle clients left).</summary>
    public TimeSpan HouseKeepingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Send <c>cmd.onJoin</c>, <c>cmd.onLeave</c> and <c>cmd.onUpdate</c> to the channels concerned.</summary>
    public bool NotifyChannelOfSubscriptions { get; set; } = true;

    /// <summary>Refuse subscriptions from unauthenticated users.</summary>
    public bool LimitToAuthenticatedUsers { get; set; }

    /// <summary>Rules every channel name must follow.</summary>
    public ChannelNameRules ChannelNames { get; } = new();

    /// <summary>Most channels one subscription may be in at once.</summary>
    public int MaxChannelsPerSubscription { get; set; } = 50;

    /// <summary>
    /// Events kept per target — each channel, user id, user name, session, and notify-all — so that a client
    /// coming back with its last event id gets what it missed (0 keeps none). Connection-targeted events are
    /// not kept: a reconnecting client is a new connection.
    /// </summary>
    public int HistoryPerTarget { get; set; } = 1000;

    /// <summary>
    /// How long events are kept in the history, whatever their count; a target idle for longer has no history
    /// left, so history does not grow with the number of sessions ever notified. A client away for longer gets
    /// <c>cmd.onReset</c>. Null keeps events until <see cref="HistoryPerTarget"/> pushes them out.
    /// </summary>
    public TimeSpan? HistoryMaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest notification payload accepted, in characters of JSON text.</summary>
    public int MaxMessageLength { get; set; } = 1024 * 1024;

    /// <summary>
    /// Whether the notify API may send the selectors of the subscription lifecycle (<c>cmd.onConnect</c>, <c>cmd.onJoin</c>,
    /// <c>cmd.onLeave</c>, <c>cmd.onUpdate</c>, <c>cmd.onHeartbeat</c>, <c>cmd.onReset</c>). Off by default: clients act on
    /// them (ServiceStack's client takes a <c>cmd.onConnect</c>'s id as its own subscription id), so a forged one breaks
    /// every recipient. The library's own lifecycle events are sent either way.
    /// </summary>
    public bool AllowLifecycleSelectors { get; set; }

    /// <summary>
    /// Most subscriptions (hub connections and SSE streams together) one client address may hold on this server; more
    /// are refused (hub: a handshake error; SSE: 429). Null for no limit. Behind a proxy, forward the
    /// client's address (<c>UseForwardedHeaders</c>), or the proxy's address is the one counted (and a busy proxy hits
    /// the limit); loopback is counted like any address.
    /// </summary>
    public int? MaxConnectionsPerAddress { get; set; } = 100;

    /// <summary>
    /// How long a hub connection may stay after its handshake without sending anything, not even SignalR's keep-alive
    /// ping (official clients send one every 15 s); then it is closed, and its channels see <c>cmd.onLeave</c>. SignalR's
    /// own <c>ClientTimeoutInterval</c> only starts with a client's first message. Null to keep silent connections.
    /// Only for hubs mapped with <c>MapServerEvents</c>.
    /// </summary>
    public TimeSpan? SilentConnectionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a session id may come from the query string or form (<c>?ss-id=…</c>), as ServiceStack's option of the
    /// same name; off by default (headers and cookies only), because a link could otherwise carry someone into another's
    /// session. ServiceStack's Chat turns it on, and its clients then add <c>ss-id</c> to the heartbeat URLs.
    /// </summary>
    public bool AllowSessionIdsInHttpParams { get; set; }

    /// <summary>
    /// Finds the caller's session id. Null (the default) follows ServiceStack: see <see cref="SessionIds.FromServiceStack"/>,
    /// with <see cref="AllowSessionIdsInHttpParams"/>.
    /// </summary>
    public Func<HttpContext, string?>? ResolveSessionId { get; set; }

    /// <summary>The caller's session id by <see cref="ResolveSessionId"/> or ServiceStack's rules.</summary>
    internal string? SessionIdOf(HttpContext context) =>
        ResolveSessionId is { } resolve ? resolve(context) : SessionIds.FromServiceStack(context, AllowSessionIdsInHttpParams);

    /// <summary>
    /// Serializer for notification payloads: camelCase, nulls omitted (ServiceStack's defaults).
    /// Each message is serialized once per notify call.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// The app's hooks (<see cref="SubscriptionEvents"/>): set its delegates here, or use <see cref="EventsType"/>.
    /// </summary>
    public SubscriptionEvents Events { get; set; } = new();

    /// <summary>
    /// A <see cref="SubscriptionEvents"/> subclass registered in DI, resolved for each hook call instead of <see cref="Events"/>
    /// (from the scope of the hub call or request it runs for, or a scope of its own), so that hooks can take the app's
    /// services — as <c>JwtBearerEvents</c>. Checked at start-up to be registered.
    /// </summary>
    public Type? EventsType { get; set; }
}

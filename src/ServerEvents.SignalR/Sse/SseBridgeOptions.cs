namespace ServerEvents.Sse;

/// <summary>
/// Settings of the ServiceStack-compatible SSE endpoints, bound from the <c>ServerEvents:Sse</c> configuration section
/// and set through <c>AddSseBridge(…)</c>; checked at start-up. Paths default to ServiceStack's, and as there a path set
/// to null (or empty) is not mapped. Heartbeat interval, idle timeout and channel rules come from <see cref="ServerEventsOptions"/>.
/// </summary>
public sealed class SseBridgeOptions
{
    /// <summary>The configuration section these options are bound from (<c>ServerEvents:Sse</c>).</summary>
    public const string ConfigurationSection = "ServerEvents:Sse";

    /// <summary>The event stream (GET, <c>?channels=a,b</c>).</summary>
    public string? StreamPath { get; set; } = "/event-stream";

    /// <summary>
    /// Heartbeats (<c>?id=</c>): pulse the subscription and push <c>cmd.onHeartbeat</c>. Turned off, <c>cmd.onConnect</c>
    /// carries no <c>heartbeatUrl</c>, and subscriptions expire after the idle timeout unless the app pulses them.
    /// </summary>
    public string? HeartbeatPath { get; set; } = "/event-heartbeat";

    /// <summary>Ends a subscription (<c>?id=</c>) and answers its meta. Turned off, <c>cmd.onConnect</c> carries no <c>unRegisterUrl</c>.</summary>
    public string? UnRegisterPath { get; set; } = "/event-unregister";

    /// <summary>
    /// Lists subscribers' meta (<c>?channels=</c>); <c>{SubscribersPath}/{id}</c> updates a subscriber's channels. Turned
    /// off, <c>cmd.onConnect</c> carries no <c>updateSubscriberUrl</c>, and the DTO routes of both are off too.
    /// </summary>
    public string? SubscribersPath { get; set; } = "/event-subscribers";

    /// <summary>
    /// Prefixes of ServiceStack's predefined routes, under which the DTO names are served too
    /// (<c>/api/UpdateEventSubscriber</c>, <c>/json/reply/GetEventSubscribers</c>, …), as the real clients call them.
    /// Null (the default) serves ServiceStack's two, <c>/api</c> and <c>/json/reply</c>; an empty list serves none. A list
    /// from configuration replaces the default. A DTO route is served only while the path it stands for is on
    /// (<see cref="SubscribersPath"/> for the subscriber list and updates, <see cref="UnRegisterPath"/> for unregister).
    /// </summary>
    public IList<string>? ServiceRoutePrefixes { get; set; }

    /// <summary>The prefixes in force.</summary>
    internal IEnumerable<string> RoutePrefixes => ServiceRoutePrefixes ?? ["/api", "/json/reply"];

    /// <summary>Heartbeat, unregister and channel updates must come from the address that opened the stream (ServiceStack's default).</summary>
    public bool ValidateUserAddress { get; set; } = true;

    /// <summary>A signed-in user's subscription can only be driven by that same user.</summary>
    public bool ValidateUser { get; set; } = true;

    /// <summary>A subscription opened with a session id can only be driven by a caller presenting it.</summary>
    public bool ValidateSession { get; set; }

    /// <summary>Largest request body the subscriber endpoints read; larger requests get 413.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How many subscriptions (SSE and hub) one signed-in user, or one anonymous session, may hold at once;
    /// more streams get 429. <see langword="null"/> for no limit.
    /// </summary>
    public int? MaxStreamsPerUser { get; set; } = 20;

    /// <summary>
    /// Bytes a stream may fall behind its reader before it is closed (with leave events): one slow reader
    /// can neither delay the others nor grow server memory without bound.
    /// </summary>
    public long MaxUnsentBytesPerStream { get; set; } = 1024 * 1024;

    /// <summary>
    /// Subscriber lists one client address may ask for per second, with bursts of four times as many; more get 429
    /// with <c>Retry-After</c>. Each list costs the server (and Redis) work in proportion to the subscribers listed.
    /// Null for no limit.
    /// </summary>
    public int? SubscriberListsPerSecond { get; set; } = 5;

    /// <summary>Most subscribers one list answers with (the first ones found); the rest are left out.</summary>
    public int MaxSubscribersListed { get; set; } = 1000;

    /// <summary>A comment line is sent after this long without any frame, so proxies keep the stream open.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    internal static bool IsOn([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? path) => !string.IsNullOrEmpty(path);
}

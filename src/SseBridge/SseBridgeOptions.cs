namespace ServerEvents.Sse;

/// <summary>
/// Settings of the ServiceStack-compatible SSE endpoints (set through <c>AddSseBridge(…)</c>). Paths default
/// to ServiceStack's; heartbeat interval, idle timeout and channel rules come from <see cref="ServerEventsOptions"/>.
/// </summary>
public sealed class SseBridgeOptions
{
    /// <summary>The event stream (GET, <c>?channels=a,b</c>).</summary>
    public string StreamPath { get; set; } = "/event-stream";

    /// <summary>Heartbeats (<c>?id=</c>): pulse the subscription and push <c>cmd.onHeartbeat</c>.</summary>
    public string HeartbeatPath { get; set; } = "/event-heartbeat";

    /// <summary>Ends a subscription (<c>?id=</c>) and answers its meta.</summary>
    public string UnRegisterPath { get; set; } = "/event-unregister";

    /// <summary>Lists subscribers' meta (<c>?channels=</c>); <c>{SubscribersPath}/{id}</c> updates a subscriber's channels.</summary>
    public string SubscribersPath { get; set; } = "/event-subscribers";

    /// <summary>
    /// Prefixes of ServiceStack's predefined routes, under which the DTO names are served too
    /// (<c>/api/UpdateEventSubscriber</c>, <c>/json/reply/GetEventSubscribers</c>, …), as the real clients call them.
    /// </summary>
    public IList<string> ServiceRoutePrefixes { get; } = ["/api", "/json/reply"];

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

    /// <summary>A comment line is sent after this long without any frame, so proxies keep the stream open.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);
}

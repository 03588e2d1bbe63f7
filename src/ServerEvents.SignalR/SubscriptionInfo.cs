using System.Globalization;

namespace ServerEvents;

/// <summary>
/// Presence record of one subscription (a hub connection or, with the SSE bridge, an event stream).
/// </summary>
/// <remarks>
/// Instances handed out by queries are snapshots: changing them changes nothing on the server.
/// The hook that runs before registration (<see cref="SubscriptionEvents.OnCreated"/>) may edit
/// <see cref="Channels"/>, <see cref="DisplayName"/>, <see cref="ProfileUrl"/>, <see cref="Meta"/>, <see cref="ConnectArgs"/>
/// and <see cref="ServerArgs"/>; the channel rules, limits and authorization are checked after it.
/// </remarks>
public sealed class SubscriptionInfo
{
    /// <summary>Unique id of the subscription; equal to the SignalR connection id.</summary>
    public required string SubscriptionId { get; init; }

    /// <summary>Channels the subscription is in, in the order they were joined (none set in <c>OnCreated</c> means <c>*</c>).</summary>
    public IReadOnlyList<string> Channels { get; set; } = [];

    /// <summary>Authenticated user id, or the anonymous id <c>-N</c>.</summary>
    public required string UserId { get; init; }

    /// <summary>Authenticated user name; <see langword="null"/> for anonymous users.</summary>
    public string? UserName { get; init; }

    /// <summary>Name shown to other users.</summary>
    public required string DisplayName { get; set; }

    /// <summary>Avatar URL shown to other users.</summary>
    public string ProfileUrl { get; set; } = DefaultProfileUrl;

    /// <summary>Session id of the caller (ServiceStack's <c>ss-id</c> by default), if any.</summary>
    public string? SessionId { get; init; }

    /// <summary>Whether the user was authenticated when the subscription was created.</summary>
    public bool IsAuthenticated { get; init; }

    /// <summary>Remote IP address that opened the subscription.</summary>
    public string? UserAddress { get; init; }

    /// <summary>When the subscription was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Last time the subscription was known to be alive.</summary>
    public DateTimeOffset LastPulseAt { get; set; }

    /// <summary>Id of the app server that owns the connection.</summary>
    public string ServerId { get; init; } = "";

    /// <summary>Custom public metadata, merged into the meta dictionary other subscribers see.</summary>
    public Dictionary<string, string> Meta { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Extra values sent to this subscriber only, in its <c>cmd.onConnect</c> payload.</summary>
    public Dictionary<string, string> ConnectArgs { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Server-only values, never sent to any client.</summary>
    public Dictionary<string, string> ServerArgs { get; init; } = new(StringComparer.Ordinal);

    /// <summary>A generic avatar used when the user has no profile image.</summary>
    public const string DefaultProfileUrl =
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E" +
        "%3Ccircle cx='16' cy='16' r='16' fill='%23cfd8dc'/%3E%3Ccircle cx='16' cy='12' r='6' fill='%23607d8b'/%3E" +
        "%3Cpath d='M5 27c2-6 7-8 11-8s9 2 11 8' fill='%23607d8b'/%3E%3C/svg%3E";

    /// <summary>
    /// The public meta dictionary (ServiceStack's shape): <c>userId</c>, <c>isAuthenticated</c>,
    /// <c>displayName</c>, <c>channels</c> (comma list), <c>createdAt</c> (unix ms), <c>profileUrl</c>,
    /// then the custom <see cref="Meta"/> entries. All values are strings. No subscription id is included.
    /// </summary>
    public Dictionary<string, string> ToMeta()
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["userId"] = UserId,
            ["isAuthenticated"] = IsAuthenticated ? "true" : "false",
            ["displayName"] = DisplayName,
            ["channels"] = string.Join(',', Channels),
            ["createdAt"] = CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["profileUrl"] = ProfileUrl,
        };
        foreach (var (key, value) in Meta)
        {
            // The standard keys describe the subscription itself; custom meta cannot contradict them.
            meta.TryAdd(key, value);
        }
        return meta;
    }

    /// <summary>A deep copy, so stores can hand out snapshots.</summary>
    public SubscriptionInfo Clone() => new()
    {
        SubscriptionId = SubscriptionId,
        Channels = [.. Channels],
        UserId = UserId,
        UserName = UserName,
        DisplayName = DisplayName,
        ProfileUrl = ProfileUrl,
        SessionId = SessionId,
        IsAuthenticated = IsAuthenticated,
        UserAddress = UserAddress,
        CreatedAt = CreatedAt,
        LastPulseAt = LastPulseAt,
        ServerId = ServerId,
        Meta = new(Meta, StringComparer.Ordinal),
        ConnectArgs = new(ConnectArgs, StringComparer.Ordinal),
        ServerArgs = new(ServerArgs, StringComparer.Ordinal),
    };
}

using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ServerEvents.Presence;

namespace ServerEvents.Internal;

/// <summary>Builds a <see cref="SubscriptionInfo"/> from the request that opens a subscription.</summary>
internal sealed class SubscriptionFactory(
    IOptions<ServerEventsOptions> options,
    ISubscriptionStore store,
    ServerIdentity server,
    TimeProvider time)
{
    /// <summary>The sequence that numbers anonymous users ("-N", "userN").</summary>
    public const string AnonymousUserSequence = "anonUser";

    /// <summary><c>HttpContext.Items</c> key under which a transport leaves extra onConnect values.</summary>
    public const string TransportConnectArgsKey = "ServerEvents.TransportConnectArgs";

    private readonly ServerEventsOptions _options = options.Value;

    /// <summary>
    /// Channels asked for in the query: <c>channels</c> and the legacy <c>channel</c>, both comma lists,
    /// concatenated; none means channel <c>*</c>. Throws <see cref="ArgumentException"/> on a bad name or too many.
    /// </summary>
    public IReadOnlyList<string> ChannelsFromQuery(IQueryCollection query)
    {
        var requested = query["channels"].Concat(query["channel"])
            .SelectMany(v => (v ?? "").Split(','))
            .ToList();
        if (requested.Count == 0 || requested.All(c => c.Length == 0))
        {
            return ["*"];
        }
        return Validate(requested);
    }

    /// <summary>Validates channel names (each once) and the per-subscription limit.</summary>
    public IReadOnlyList<string> Validate(IEnumerable<string>? channels)
    {
        // The names and their order, each once; the limit is this method's own (its message counts them all).
        var distinct = _options.ChannelNames.ValidateList(channels!, int.MaxValue, nameof(channels));
        if (distinct.Count > _options.MaxChannelsPerSubscription)
        {
            throw new ArgumentException($"A subscription may be in at most {_options.MaxChannelsPerSubscription} channels; {distinct.Count} were asked for.", nameof(channels));
        }
        return distinct;
    }

    /// <summary>Builds the subscription of a new connection.</summary>
    /// <param name="subscriptionId">The connection id.</param>
    /// <param name="userIdentifier">The user id SignalR's <c>IUserIdProvider</c> gave the connection.</param>
    /// <param name="http">The connection's request.</param>
    /// <param name="channels">Validated channels.</param>
    /// <param name="cancellationToken">Cancels it.</param>
    public async Task<SubscriptionInfo> CreateAsync(string subscriptionId, string? userIdentifier, HttpContext http, IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var user = http.User;
        var authenticated = user.Identity?.IsAuthenticated == true;
        string userId, displayName;
        string? userName = null;
        if (authenticated)
        {
            userName = user.Identity!.Name;
            userId = userIdentifier ?? UserIds.Fallback(user)
                ?? throw new ArgumentException("The authenticated user has neither a name identifier nor a name.");
            displayName = DisplayNameOf(user, userName ?? userId);
        }
        else
        {
            // ServiceStack's anonymous identity: a cluster-wide counter gives "-N" and "userN".
            var n = await store.NextSequenceAsync(AnonymousUserSequence, cancellationToken);
            userId = "-" + n.ToString(CultureInfo.InvariantCulture);
            displayName = "user" + n.ToString(CultureInfo.InvariantCulture);
        }

        var info = new SubscriptionInfo
        {
            SubscriptionId = subscriptionId,
            Channels = channels,
            UserId = userId,
            UserName = userName,
            DisplayName = displayName,
            ProfileUrl = user.FindFirstValue("picture") ?? SubscriptionInfo.DefaultProfileUrl,
            SessionId = _options.SessionIdOf(http),
            IsAuthenticated = authenticated,
            UserAddress = http.Connection.RemoteIpAddress?.ToString(),
            CreatedAt = now,
            LastPulseAt = now,
            ServerId = server.Id,
        };
        // A transport (the SSE bridge) adds what its clients need in onConnect, e.g. heartbeat URLs.
        if (http.Items.TryGetValue(TransportConnectArgsKey, out var extra) && extra is IReadOnlyDictionary<string, string> args)
        {
            foreach (var (key, value) in args)
            {
                info.ConnectArgs[key] = value;
            }
        }
        return info;
    }

    // Like ServiceStack: the user name unless it is an e-mail address or a number, then a name claim.
    private static string DisplayNameOf(ClaimsPrincipal user, string fallback)
    {
        var name = user.Identity?.Name;
        if (!string.IsNullOrWhiteSpace(name) && !name.Contains('@', StringComparison.Ordinal) && !long.TryParse(name, CultureInfo.InvariantCulture, out _))
        {
            return name;
        }
        return user.FindFirstValue("name") ?? user.FindFirstValue(ClaimTypes.GivenName) ?? fallback.Split('@')[0];
    }
}

using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// ServiceStack's subscriber endpoints — heartbeat, unregister, subscriber list, subscriber update — over
/// the cluster-wide API, so any server can answer for any subscription. Errors are ServiceStack-shaped
/// (<c>{"responseStatus":{"errorCode","message"}}</c>) and change nothing.
/// </summary>
internal sealed class SubscriberEndpoints(
    IServerEvents serverEvents,
    SubscriptionLifecycle lifecycle,
    IOptions<ServerEventsOptions> serverEventsOptions,
    IOptions<SseBridgeOptions> bridgeOptions,
    UserIds userIds,
    RefusalLog refusals)
{
    private readonly ServerEventsOptions _options = serverEventsOptions.Value;
    private readonly SseBridgeOptions _bridge = bridgeOptions.Value;
    private readonly PartitionedRateLimiter<HttpContext> _listLimiter = ListLimiter(bridgeOptions.Value.SubscriberListsPerSecond);

    // A token bucket per client address.
    private static PartitionedRateLimiter<HttpContext> ListLimiter(int? perSecond) =>
        PartitionedRateLimiter.Create<HttpContext, System.Net.IPAddress>(http =>
        {
            var address = http.Connection.RemoteIpAddress;
            if (perSecond is not { } rate || address is null)
            {
                return RateLimitPartition.GetNoLimiter(System.Net.IPAddress.None);
            }
            return RateLimitPartition.GetTokenBucketLimiter(ConnectionsPerAddress.Normalize(address)!, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate * 4,
                TokensPerPeriod = rate,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });

    /// <summary>Pulses the subscription (its owner then pushes <c>cmd.onHeartbeat</c>); 200 with an empty body.</summary>
    public Task HeartbeatAsync(HttpContext http) => GuardAsync(http, async request =>
    {
        var info = await OwnSubscriptionAsync(http, request);
        if (!await lifecycle.PulseAsync(info.SubscriptionId, http.RequestAborted))
        {
            throw NotFound(http, info.SubscriptionId);
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
    });

    /// <summary>Ends the subscription (closing its stream, with leave events); answers its meta.</summary>
    public Task UnRegisterAsync(HttpContext http) => GuardAsync(http, async request =>
    {
        var info = await OwnSubscriptionAsync(http, request);
        var removed = await lifecycle.UnRegisterAsync(info.SubscriptionId, http.RequestAborted) ?? throw NotFound(http, info.SubscriptionId);
        await JsonAsync(http.Response, StatusCodes.Status200OK, removed.ToMeta());
    });

    /// <summary>
    /// The meta of the subscriptions in any of the channels (all when none are given), at most
    /// <see cref="SseBridgeOptions.MaxSubscribersListed"/>; authorized and rate-limited per client address first.
    /// </summary>
    public Task GetSubscribersAsync(HttpContext http) => GuardAsync(http, async request =>
    {
        using (var lease = _listLimiter.AttemptAcquire(http))
        {
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                refusals.Refused(RefusalLog.SubscriberListRate, "a subscriber list over the per-address rate", http.Connection.RemoteIpAddress?.ToString());
                throw new BadRequestException(StatusCodes.Status429TooManyRequests, "Too many subscriber lists from this address; retry later.");
            }
        }
        List<string> channels;
        try
        {
            channels = await lifecycle.AuthorizeListAsync(request.List("channels").Concat(request.List("channel")), null,
                new ChannelCaller(http.User, http, http.RequestServices), http.RequestAborted);
        }
        catch (ChannelAccessDeniedException ex)
        {
            throw new BadRequestException(StatusCodes.Status403Forbidden, ex.Message);
        }
        // No channel lists everyone, as ServiceStack's endpoint does.
        var details = channels.Count == 0
            ? await serverEvents.GetAllSubscriptionsDetailsAsync(http.RequestAborted)
            : await serverEvents.GetSubscriptionsDetailsAsync(channels, http.RequestAborted);
        await JsonAsync(http.Response, StatusCodes.Status200OK, details.Count > _bridge.MaxSubscribersListed ? details.Take(_bridge.MaxSubscribersListed) : details);
    });

    /// <summary>Unsubscribes then subscribes channels (ServiceStack's order); <c>cmd.onUpdate</c> goes to the channels.</summary>
    public Task UpdateSubscriberAsync(HttpContext http) => GuardAsync(http, async request =>
    {
        var info = await OwnSubscriptionAsync(http, request);
        await lifecycle.ChangeChannelsAsync(info.SubscriptionId, request.List("subscribeChannels"), request.List("unsubscribeChannels"), new ChannelCaller(http.User, http, http.RequestServices), http.RequestAborted);
        await JsonAsync(http.Response, StatusCodes.Status200OK, new Dictionary<string, string>());
    });

    /// <summary>Writes a plain-text error answer.</summary>
    public static async Task TextAsync(HttpResponse response, int status, string message)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        await response.WriteAsync(message);
    }

    private async Task<SubscriptionInfo> OwnSubscriptionAsync(HttpContext http, ServiceStackRequest request)
    {
        var id = request.Single("id") ?? throw new BadRequestException(StatusCodes.Status400BadRequest, "The subscription 'id' is required.");
        var info = await serverEvents.GetSubscriptionInfoAsync(id, http.RequestAborted) ?? throw NotFound(http, id);
        if (DeniedReason(info, http) is { } denied)
        {
            throw new BadRequestException(StatusCodes.Status403Forbidden, denied);
        }
        return info;
    }

    /// <summary>Why this caller may not drive that subscription, or null when it may.</summary>
    private string? DeniedReason(SubscriptionInfo info, HttpContext http)
    {
        if (_bridge.ValidateUserAddress && info.UserAddress is { } address && http.Connection.RemoteIpAddress?.ToString() != address)
        {
            return "Invalid User Address";
        }
        if (_bridge.ValidateUser && info.IsAuthenticated
            && (http.User.Identity?.IsAuthenticated != true || userIds.Of(http) != info.UserId))
        {
            return "The subscription belongs to another user.";
        }
        if (_bridge.ValidateSession && info.SessionId is { } session && _options.SessionIdOf(http) != session)
        {
            return "The subscription belongs to another session.";
        }
        return null;
    }

    private static BadRequestException NotFound(HttpContext http, string id)
    {
        var message = $"Subscription '{id}' does not exist";
        // Clients read the status text of a failed heartbeat; ids are URL-safe, so the phrase stays one line.
        if (!id.Any(char.IsControl))
        {
            http.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = message;
        }
        return new BadRequestException(StatusCodes.Status404NotFound, message);
    }

    private async Task GuardAsync(HttpContext http, Func<ServiceStackRequest, Task> handle)
    {
        try
        {
            var request = await ServiceStackRequest.ReadAsync(http, _bridge.MaxRequestBodyBytes);
            await handle(request);
        }
        catch (BadRequestException ex)
        {
            await ErrorAsync(http.Response, ex.StatusCode, ex.Message);
        }
        catch (ArgumentException ex)
        {
            // Bad channel names, too many channels, unknown subscription (raced), refused channels.
            await ErrorAsync(http.Response, ex is SubscriptionNotFoundException ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (ChannelAccessDeniedException ex)
        {
            await ErrorAsync(http.Response, StatusCodes.Status403Forbidden, ex.Message);
        }
    }

    private static Task ErrorAsync(HttpResponse response, int status, string message)
    {
        var code = status switch
        {
            StatusCodes.Status404NotFound => "NotFound",
            StatusCodes.Status403Forbidden => "Forbidden",
            StatusCodes.Status413PayloadTooLarge => "RequestEntityTooLarge",
            _ => "ArgumentException",
        };
        return JsonAsync(response, status, new { responseStatus = new { errorCode = code, message } });
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static async Task JsonAsync<T>(HttpResponse response, int status, T value)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body, value, Json);
    }
}

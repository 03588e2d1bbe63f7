using ServerEvents.Redis;
using StackExchange.Redis;

namespace ChatHub;

/// <summary>Turns what a request can fail with into clear answers instead of a 500.</summary>
public static class ChatErrors
{
    /// <summary>Seconds a client is asked to wait while Redis is unavailable.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>
    /// Malformed or oversized bodies answer their 4xx with a reason; a Redis failure during a request (a killed
    /// connection, a timeout, no Redis at all) answers 503 with <c>Retry-After</c>: nothing was half-done that a retry breaks.
    /// </summary>
    public static IApplicationBuilder UseChatErrors(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            await ChatRoutes.WriteErrorAsync(http, ex.StatusCode, ex.Message);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException or RedisUnreachableException && !http.Response.HasStarted)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ChatRoutes.WriteErrorAsync(http, StatusCodes.Status503ServiceUnavailable, "Redis is unavailable; retry shortly.");
        }
    });
}

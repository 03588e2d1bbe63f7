using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServerEvents.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Server Events health check.</summary>
public static class ServerEventsHealthCheckExtensions
{
    /// <summary>
    /// Adds the Server Events back-end check (named <c>server-events</c> unless given a name). Its data says which
    /// back-end this server is on (<c>backend</c>: <c>memory</c> or <c>redis</c>; on Redis also <c>redisMode</c>
    /// standalone or cluster, the endpoints and the key prefix). On the memory back-end it is always healthy; on Redis it
    /// is healthy while both connections are up and nothing waits, degraded while Redis is unreachable (local subscribers
    /// are still served, notifications are buffered) or connections wait for their back-fill, unhealthy once the buffer is
    /// full and notifications are being refused.
    /// </summary>
    /// <param name="builder">From <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name in reports.</param>
    /// <param name="tags">Tags to select it by, e.g. <c>["ready"]</c> for a readiness endpoint that maps only those.</param>
    public static IHealthChecksBuilder AddServerEvents(this IHealthChecksBuilder builder, string name = "server-events", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<ServerEventsHealthCheck>(name, failureStatus: null, tags: tags ?? []);
    }
}

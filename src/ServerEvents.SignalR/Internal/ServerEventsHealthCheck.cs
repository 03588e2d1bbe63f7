using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServerEvents.Redis.Internal;

namespace ServerEvents.Internal;

/// <summary>
/// Reports the Server Events back-end: always healthy on the memory back-end; on Redis, healthy while both
/// connections are up and nothing waits, degraded while Redis is unreachable (local subscribers are still served,
/// notifications are buffered) or connections wait for their back-fill, unhealthy once the buffer is full and
/// notifications are being refused. Add it with <see cref="ServerEventsHealthCheckExtensions.AddServerEvents"/>.
/// </summary>
internal sealed class ServerEventsHealthCheck(IServiceProvider services) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<RedisBackplane>() is not { } redis)
        {
            return Task.FromResult(HealthCheckResult.Healthy(
                "Memory back-end: this server shares no subscriptions or events with any other.",
                new Dictionary<string, object> { ["backend"] = "memory" }));
        }
        var buffer = redis.Buffer;
        var buffered = buffer.Count;
        var commands = redis.IsConnected;
        var pubSub = redis.InboxLive;
        var data = new Dictionary<string, object>
        {
            ["backend"] = "redis",
            ["endpoint"] = redis.EndPoint,
            ["redisMode"] = redis.Mode,
            ["prefix"] = redis.Keys.Prefix,
            ["commandConnection"] = commands ? "up" : "down",
            ["pubSubConnection"] = pubSub ? "up" : "down",
            ["bufferedNotifications"] = buffered,
            ["bufferCapacity"] = buffer.Capacity,
            ["refusedNotifications"] = buffer.Refused,
            ["connectionsAwaitingBackfill"] = redis.AwaitingBackfill,
        };
        if (buffer.Since is { } since)
        {
            data["bufferingSince"] = since.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }
        if (buffered >= buffer.Capacity && !commands)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"Redis at {redis.EndPoint} is unreachable and the notification buffer is full: notifications are refused.", data: data));
        }
        if (!commands || !pubSub || buffered > 0 || redis.AwaitingBackfill > 0)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"Redis backplane at {redis.EndPoint} degraded: local subscribers are served, " +
                $"{buffered} notifications wait for Redis, {redis.AwaitingBackfill} connections wait for their back-fill.", data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy($"Redis backplane at {redis.EndPoint} connected.", data));
    }
}

using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ServerEvents.Internal;
using ServerEvents.Presence;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>Switches Server Events to the Redis back-end (StackExchange.Redis; one redis-server or a Redis Cluster).</summary>
public static class RedisServerEventsExtensions
{
    /// <summary>
    /// Scales out through Redis: SignalR's lifetime manager, presence and connection control move to
    /// Redis; nothing else changes for the app or its clients.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">StackExchange.Redis's configuration string (<c>host:port,password=…,ssl=true</c>; several
    /// endpoints for a cluster) or a <c>redis://[user:password@]host:port/db</c> URL (<c>rediss://</c> for TLS).</param>
    /// <param name="configure">Optional back-end settings.</param>
    public static ServerEventsBuilder AddRedis(this ServerEventsBuilder builder, string configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        var options = RedisConnectionString.Parse(configuration);
        return builder.AddRedis(options, configure);
    }

    /// <summary>Scales out through Redis, connecting with StackExchange.Redis's <paramref name="configuration"/>.</summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">Endpoints, credentials, TLS, timeouts.</param>
    /// <param name="configure">Optional back-end settings.</param>
    public static ServerEventsBuilder AddRedis(this ServerEventsBuilder builder, ConfigurationOptions configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return builder.AddRedisCore(o =>
        {
            o.Configuration = configuration;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Scales out through Redis on a multiplexer the app already has — e.g.
    /// <c>AddRedis(sp => sp.GetRequiredService&lt;IConnectionMultiplexer&gt;())</c> — so one connection serves the app,
    /// other hubs' backplanes and Server Events. It is not disposed by us.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="multiplexer">Returns the app's multiplexer.</param>
    /// <param name="configure">Optional back-end settings.</param>
    public static ServerEventsBuilder AddRedis(this ServerEventsBuilder builder, Func<IServiceProvider, IConnectionMultiplexer> multiplexer, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        return builder.AddRedisCore(o =>
        {
            o.ConnectionFactory = multiplexer;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Uses Redis when configuration names it — <c>ServerEvents:Redis</c>, else the <c>Redis</c> connection
    /// string — and the memory back-end otherwise, so an app switches by setting one value.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">The app's configuration.</param>
    public static ServerEventsBuilder AddRedisFromConfiguration(this ServerEventsBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration["ServerEvents:Redis"] ?? configuration.GetConnectionString("Redis");
        return string.IsNullOrWhiteSpace(connectionString) ? builder : builder.AddRedis(connectionString);
    }

    private static ServerEventsBuilder AddRedisCore(this ServerEventsBuilder builder, Action<RedisBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var hub = builder.HubType;
        var services = builder.Services;
        services.Configure<RedisBackplaneOptions>(o =>
        {
            configure(o);
            o.Prefix ??= "se:" + hub.Name;
        });
        services.TryAddSingleton<RedisBackplane>();
        services.Replace(ServiceDescriptor.Singleton(typeof(HubLifetimeManager<>).MakeGenericType(hub), typeof(RedisHubLifetimeManager<>).MakeGenericType(hub)));
        services.TryAddSingleton<RedisSubscriptionStore>();
        services.Replace(ServiceDescriptor.Singleton<ISubscriptionStore>(sp => sp.GetRequiredService<RedisSubscriptionStore>()));
        services.Replace(ServiceDescriptor.Singleton(typeof(ConnectionControl), typeof(RedisConnectionControl<>).MakeGenericType(hub)));
        services.AddSingleton(typeof(IHostedService), typeof(RedisPresenceHousekeeper<>).MakeGenericType(hub));
        return builder;
    }
}

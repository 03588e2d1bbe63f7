using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ServerEvents;
using ServerEvents.Internal;
using ServerEvents.Redis;
using ServerEvents.Presence;
using Microsoft.Extensions.Options;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

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
    public static IServerEventsBuilder AddRedis(this IServerEventsBuilder builder, string configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var options = RedisConnectionString.Parse(configuration);
        return builder.AddRedis(options, configure);
    }

    /// <summary>Scales out through Redis, connecting with StackExchange.Redis's <paramref name="configuration"/>.</summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">Endpoints, credentials, TLS, timeouts.</param>
    /// <param name="configure">Optional back-end settings.</param>
    public static IServerEventsBuilder AddRedis(this IServerEventsBuilder builder, ConfigurationOptions configuration, Action<RedisBackplaneOptions>? configure = null)
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
    public static IServerEventsBuilder AddRedis(this IServerEventsBuilder builder, Func<IServiceProvider, IConnectionMultiplexer> multiplexer, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        return builder.AddRedisCore(o =>
        {
            o.ConnectionFactory = multiplexer;
            configure?.Invoke(o);
        });
    }

    /// <summary>The configuration key of the Redis configuration string (<c>ServerEvents:Redis</c>).</summary>
    public const string ConfigurationKey = "ServerEvents:Redis";

    /// <summary>
    /// Scales out through the Redis that configuration names: <c>ServerEvents:Redis</c>, else the <c>Redis</c>
    /// connection string (<c>ConnectionStrings:Redis</c>), in any form <see cref="AddRedis(IServerEventsBuilder, string, Action{RedisBackplaneOptions}?)"/> takes.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <param name="configure">Optional back-end settings.</param>
    /// <exception cref="InvalidOperationException">Neither key is set: N servers on the memory back-end would be N islands.</exception>
    public static IServerEventsBuilder AddRedisFromConfiguration(this IServerEventsBuilder builder, IConfiguration configuration, Action<RedisBackplaneOptions>? configure = null) =>
        builder.AddRedisFromConfiguration(configuration, required: true, configure);

    /// <summary>
    /// Scales out through the Redis that configuration names (<c>ServerEvents:Redis</c>, else <c>ConnectionStrings:Redis</c>);
    /// when neither is set and <paramref name="required"/> is false, stays on the memory back-end — for a single server
    /// in development — and says so: a warning at start-up and in the health check's description.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <param name="required">Whether a missing setting is an error (it is, in anything that runs more than one server).</param>
    /// <param name="configure">Optional back-end settings.</param>
    /// <exception cref="InvalidOperationException"><paramref name="required"/> and neither key is set.</exception>
    public static IServerEventsBuilder AddRedisFromConfiguration(this IServerEventsBuilder builder, IConfiguration configuration, bool required, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var connectionString = configuration[ConfigurationKey];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = configuration.GetConnectionString("Redis");
        }
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return builder.AddRedis(connectionString, configure);
        }
        if (required)
        {
            throw new InvalidOperationException(
                $"Server Events needs Redis, but the configuration sets neither '{ConfigurationKey}' nor 'ConnectionStrings:Redis'.");
        }
        builder.Services.AddHostedService<MemoryBackendWarning>();
        return builder;
    }

    private static IServerEventsBuilder AddRedisCore(this IServerEventsBuilder builder, Action<RedisBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var hub = builder.HubType;
        var services = builder.Services;
        services.AddOptions<RedisBackplaneOptions>()
            .BindFromConfiguration(RedisBackplaneOptions.ConfigurationSection)
            .Configure(o =>
            {
                configure(o);
                o.Prefix ??= RedisBackplaneOptions.DefaultPrefix;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, RedisBackplaneOptionsValidator>());
        services.TryAddSingleton<RedisBackplane>();
        services.Replace(ServiceDescriptor.Singleton(typeof(HubLifetimeManager<>).MakeGenericType(hub), typeof(RedisHubLifetimeManager<>).MakeGenericType(hub)));
        services.TryAddSingleton<RedisSubscriptionStore>();
        services.Replace(ServiceDescriptor.Singleton<ISubscriptionStore>(sp => sp.GetRequiredService<RedisSubscriptionStore>()));
        services.Replace(ServiceDescriptor.Singleton(typeof(ConnectionControl), typeof(RedisConnectionControl<>).MakeGenericType(hub)));
        services.AddSingleton(typeof(IHostedService), typeof(RedisPresenceHousekeeper<>).MakeGenericType(hub));
        return builder;
    }
}

using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ServerEvents.Internal;
using ServerEvents.Presence;
using ServerEvents.Redis.Internal;
using ServerEvents.Resp;

namespace ServerEvents.Redis;

/// <summary>Switches Server Events to the Redis back-end.</summary>
public static class RedisServerEventsExtensions
{
    /// <summary>
    /// Scales out through Redis: SignalR's lifetime manager, presence and connection control move to
    /// Redis; nothing else changes for the app or its clients.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="connectionString"><c>host:port,password=…,ssl=…</c> or <c>redis://…</c>.</param>
    /// <param name="configure">Optional back-end settings.</param>
    public static ServerEventsBuilder AddRedis(this ServerEventsBuilder builder, string connectionString, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connection = RedisConnectionOptions.Parse(connectionString);
        var hub = builder.HubType;
        var services = builder.Services;
        services.Configure<RedisBackplaneOptions>(o =>
        {
            o.Connection = connection;
            configure?.Invoke(o);
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
}

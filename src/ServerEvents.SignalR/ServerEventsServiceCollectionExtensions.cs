using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ServerEvents.Internal;
using ServerEvents.Presence;

namespace ServerEvents;

/// <summary>Registers the Server Events API.</summary>
public static class ServerEventsServiceCollectionExtensions
{
    /// <summary>Adds SignalR and the Server Events API bound to <see cref="ServerEventsHub"/>, on the memory back-end.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Optional settings.</param>
    public static ServerEventsBuilder AddServerEvents(this IServiceCollection services, Action<ServerEventsOptions>? configure = null) =>
        services.AddServerEvents<ServerEventsHub>(configure);

    /// <summary>
    /// Adds SignalR and the Server Events API bound to the app's own hub <typeparamref name="THub"/>
    /// (which derives from <see cref="ServerEventsHubBase"/>), on the memory back-end.
    /// </summary>
    /// <typeparam name="THub">The hub whose connections are subscriptions and whose groups are channels.</typeparam>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Optional settings.</param>
    public static ServerEventsBuilder AddServerEvents<THub>(this IServiceCollection services, Action<ServerEventsOptions>? configure = null)
        where THub : ServerEventsHubBase
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.FirstOrDefault(d => d.ServiceType == typeof(ServerEventsBuilder))?.ImplementationInstance is ServerEventsBuilder existing)
        {
            if (existing.HubType != typeof(THub))
            {
                throw new InvalidOperationException($"Server Events is already bound to hub {existing.HubType.Name}; one app has one Server Events hub.");
            }
            if (configure is not null)
            {
                services.Configure(configure);
            }
            return existing;
        }

        services.AddSignalR();
        var options = services.AddOptions<ServerEventsOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.Validate(o => o.IdleTimeout > TimeSpan.Zero && o.HeartbeatInterval > TimeSpan.Zero, "IdleTimeout and HeartbeatInterval must be positive.")
            .Validate(o => o.MaxChannelsPerSubscription > 0 && o.ChannelNames.MaxLength > 0 && o.MaxMessageLength > 0 && o.MaxConnectionsPerAddress is null or > 0, "Limits must be positive.")
            .Validate(o => o.SilentConnectionTimeout is null || o.SilentConnectionTimeout > TimeSpan.Zero, "SilentConnectionTimeout must be positive (or null).")
            .ValidateOnStart();

        var builder = new ServerEventsBuilder(services, typeof(THub));
        services.AddSingleton(builder);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServerIdentity>();
        services.TryAddSingleton<ISubscriptionStore, MemorySubscriptionStore>();
        services.AddMetrics();
        services.TryAddSingleton<ServerEventsMetrics>();
        // SignalR's memory manager, counting deliveries (the Redis back-end replaces it) — unless the app already put
        // another manager in SignalR's place, which is then left alone.
        if (services.LastOrDefault(d => d.ServiceType == typeof(HubLifetimeManager<>))?.ImplementationType == typeof(DefaultHubLifetimeManager<>)
            && !services.Any(d => d.ServiceType == typeof(HubLifetimeManager<THub>)))
        {
            services.AddSingleton<HubLifetimeManager<THub>, MemoryHubLifetimeManager<THub>>();
        }
        services.AddSingleton<EventDelivery, HubEventDelivery<THub>>();
        services.AddSingleton<LocalConnections>();
        services.TryAddSingleton<ConnectionControl, LocalConnectionControl>();
        services.AddSingleton<Payloads>();
        services.TryAddSingleton<RefusalLog>();
        services.TryAddSingleton<ConnectionsPerAddress>();
        services.TryAddSingleton<HubConnectionGuard>();
        services.AddSingleton<SubscriptionFactory>();
        services.AddSingleton<SubscriptionLifecycle>();
        services.AddSingleton<IServerEvents, HubServerEvents>();
        services.AddScoped<IHubActivator<THub>, ServerEventsHubActivator<THub>>();
        return builder;
    }
}

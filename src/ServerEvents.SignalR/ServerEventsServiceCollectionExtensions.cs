using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerEvents;
using ServerEvents.Internal;
using ServerEvents.Presence;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Server Events API.</summary>
public static class ServerEventsServiceCollectionExtensions
{
    /// <summary>The configuration section <see cref="ServerEventsOptions"/> are bound from (<c>ServerEvents</c>).</summary>
    public const string ConfigurationSection = "ServerEvents";

    /// <summary>Adds SignalR and the Server Events API bound to <see cref="ServerEventsHub"/>, on the memory back-end.</summary>
    /// <param name="services">The app's services.</param>
    /// <returns>A builder for the back-end, the SSE bridge and SignalR's own settings.</returns>
    /// <remarks>
    /// <see cref="ServerEventsOptions"/> are bound from the <c>ServerEvents</c> configuration section (when the app has an
    /// <see cref="IConfiguration"/>) and validated at start-up: a broken setting stops the app with every reason listed.
    /// </remarks>
    public static IServerEventsBuilder AddServerEvents(this IServiceCollection services) =>
        services.AddServerEvents<ServerEventsHub>(_ => { });

    /// <summary>Adds SignalR and the Server Events API bound to <see cref="ServerEventsHub"/>, on the memory back-end.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Settings and hooks; runs after the <c>ServerEvents</c> configuration section is bound.</param>
    /// <returns>A builder for the back-end, the SSE bridge and SignalR's own settings.</returns>
    public static IServerEventsBuilder AddServerEvents(this IServiceCollection services, Action<ServerEventsOptions> configure) =>
        services.AddServerEvents<ServerEventsHub>(configure);

    /// <summary>
    /// Adds SignalR and the Server Events API bound to the app's own hub <typeparamref name="THub"/>
    /// (which derives from <see cref="ServerEventsHubBase"/>), on the memory back-end.
    /// </summary>
    /// <typeparam name="THub">The hub whose connections are subscriptions and whose groups are channels.</typeparam>
    /// <param name="services">The app's services.</param>
    /// <returns>A builder for the back-end, the SSE bridge and SignalR's own settings.</returns>
    public static IServerEventsBuilder AddServerEvents<THub>(this IServiceCollection services)
        where THub : ServerEventsHubBase =>
        services.AddServerEvents<THub>(_ => { });

    /// <summary>
    /// Adds SignalR and the Server Events API bound to the app's own hub <typeparamref name="THub"/>
    /// (which derives from <see cref="ServerEventsHubBase"/>), on the memory back-end.
    /// </summary>
    /// <typeparam name="THub">The hub whose connections are subscriptions and whose groups are channels.</typeparam>
    /// <param name="services">The app's services.</param>
    /// <param name="configure">Settings and hooks; runs after the <c>ServerEvents</c> configuration section is bound.</param>
    /// <returns>A builder for the back-end, the SSE bridge and SignalR's own settings.</returns>
    /// <exception cref="InvalidOperationException">Server Events is already bound to another hub.</exception>
    public static IServerEventsBuilder AddServerEvents<THub>(this IServiceCollection services, Action<ServerEventsOptions> configure)
        where THub : ServerEventsHubBase
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.FirstOrDefault(d => d.ServiceType == typeof(ServerEventsBuilder))?.ImplementationInstance is ServerEventsBuilder existing)
        {
            if (existing.HubType != typeof(THub))
            {
                throw new InvalidOperationException($"Server Events is already bound to hub {existing.HubType.Name}; one app has one Server Events hub.");
            }
                services.Configure(configure);
            return existing;
        }

        ArgumentNullException.ThrowIfNull(configure);
        var signalR = services.AddSignalR();
        services.AddOptions<ServerEventsOptions>().BindFromConfiguration(ConfigurationSection).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServerEventsOptions>, ServerEventsOptionsValidator>());

        var builder = new ServerEventsBuilder(services, signalR, typeof(THub));
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
        services.TryAddSingleton<UserIds>();
        services.TryAddSingleton<ServerEventsHooks>();
        services.AddSingleton<SubscriptionLifecycle>();
        services.AddSingleton<IServerEvents, HubServerEvents>();
        services.AddScoped<IHubActivator<THub>, ServerEventsHubActivator<THub>>();
        return builder;
    }
}

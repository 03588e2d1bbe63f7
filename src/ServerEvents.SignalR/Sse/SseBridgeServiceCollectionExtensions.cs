using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerEvents;
using ServerEvents.Internal;
using ServerEvents.Sse;
using ServerEvents.Sse.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the ServiceStack-compatible SSE endpoints.</summary>
public static class SseBridgeServiceCollectionExtensions
{
    /// <summary>
    /// Lets ServiceStack Server Events clients (the JS/TS and C# <c>ServerEventsClient</c>, ss-utils,
    /// plain <c>EventSource</c>) subscribe over <c>text/event-stream</c>. Each stream becomes a connection of
    /// the app's Server Events hub: it is in presence, in the hub groups of its channels, and scales out
    /// through whatever back-end is configured. Map the endpoints with <c>MapServerEventsSse()</c>.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configure">Optional paths, limits and caller checks; runs after the <c>ServerEvents:Sse</c> configuration section is bound.</param>
    /// <returns>The same builder.</returns>
    public static IServerEventsBuilder AddSseBridge(this IServerEventsBuilder builder, Action<SseBridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<SseBridgeOptions>().BindFromConfiguration(SseBridgeOptions.ConfigurationSection);
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SseBridgeOptions>, SseBridgeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHubProtocol, SseHubProtocol>());
        services.TryAddSingleton<SseConnections>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SseConnections>(sp => sp.GetRequiredService<SseConnections>()));
        services.TryAddSingleton<SseStreamEndpoint>();
        services.TryAddSingleton<SubscriberEndpoints>();
        return builder;
    }
}

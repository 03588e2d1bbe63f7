using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using ServerEvents.Sse.Internal;

namespace ServerEvents.Sse;

/// <summary>Registers and maps the ServiceStack-compatible SSE endpoints.</summary>
public static class SseBridgeExtensions
{
    /// <summary>
    /// Lets ServiceStack Server Events clients (the JS/TS and C# <c>ServerEventsClient</c>, ss-utils,
    /// plain <c>EventSource</c>) subscribe over <c>text/event-stream</c>. Each stream becomes a connection of
    /// the app's Server Events hub: it is in presence, in the hub groups of its channels, and scales out
    /// through whatever back-end is configured. Map the endpoints with <see cref="MapServerEventsSse"/>.
    /// </summary>
    /// <param name="builder">From <c>AddServerEvents()</c>.</param>
    /// <param name="configure">Optional paths, limits and caller checks.</param>
    public static ServerEventsBuilder AddSseBridge(this ServerEventsBuilder builder, Action<SseBridgeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<SseBridgeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.Validate(o => o.MaxRequestBodyBytes > 0 && o.MaxUnsentBytesPerStream > 0 && o.MaxSubscribersListed > 0
                && o.MaxStreamsPerUser is null or > 0 && o.SubscriberListsPerSecond is null or > 0 && o.KeepAliveInterval > TimeSpan.Zero,
                "SSE bridge limits must be positive.")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHubProtocol, SseHubProtocol>());
        services.TryAddSingleton<SseConnections>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SseConnections>(sp => sp.GetRequiredService<SseConnections>()));
        services.TryAddSingleton<SseStreamEndpoint>();
        services.TryAddSingleton<SubscriberEndpoints>();
        return builder;
    }

    /// <summary>
    /// Maps <c>/event-stream</c>, <c>/event-heartbeat</c>, <c>/event-unregister</c>, <c>/event-subscribers</c>,
    /// <c>/event-subscribers/{id}</c> (paths from <see cref="SseBridgeOptions"/>) and the DTO routes the
    /// clients call: <c>/api/UpdateEventSubscriber</c>, <c>/api/GetEventSubscribers</c>,
    /// <c>/api/UnRegisterEventSubscriber</c> and their <c>/json/reply/…</c> forms.
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <returns>The group of mapped endpoints, for conventions such as authorization or CORS.</returns>
    /// <remarks>Works under a route group and a path base: the URLs in <c>cmd.onConnect</c> are built from the stream's own URL.</remarks>
    /// <exception cref="InvalidOperationException"><c>AddSseBridge()</c> was not called.</exception>
    public static RouteGroupBuilder MapServerEventsSse(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var stream = services.GetService<SseStreamEndpoint>() ?? throw new InvalidOperationException(
            "MapServerEventsSse() needs the SSE bridge's services: call services.AddServerEvents().AddSseBridge() first.");
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SseBridgeOptions>>().Value;
        var subscribers = services.GetRequiredService<SubscriberEndpoints>();
        var group = endpoints.MapGroup("");

        group.MapGet(options.StreamPath, stream.HandleAsync);
        group.Map(options.HeartbeatPath, subscribers.HeartbeatAsync);
        group.Map(options.UnRegisterPath, subscribers.UnRegisterAsync);
        group.Map(options.SubscribersPath, subscribers.GetSubscribersAsync);
        group.Map(options.SubscribersPath + "/{id}", subscribers.UpdateSubscriberAsync);
        foreach (var prefix in options.ServiceRoutePrefixes)
        {
            var root = prefix.TrimEnd('/');
            group.Map(root + "/UpdateEventSubscriber", subscribers.UpdateSubscriberAsync);
            group.Map(root + "/UpdateEventSubscriber/{id}", subscribers.UpdateSubscriberAsync);
            group.Map(root + "/GetEventSubscribers", subscribers.GetSubscribersAsync);
            group.Map(root + "/UnRegisterEventSubscriber", subscribers.UnRegisterAsync);
            group.Map(root + "/UnRegisterEventSubscriber/{id}", subscribers.UnRegisterAsync);
        }
        return group;
    }
}

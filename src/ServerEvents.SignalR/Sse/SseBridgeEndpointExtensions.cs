using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerEvents.Sse;
using ServerEvents.Sse.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the ServiceStack-compatible SSE endpoints.</summary>
public static class SseBridgeEndpointExtensions
{
    /// <summary>
    /// Maps <c>/event-stream</c>, <c>/event-heartbeat</c>, <c>/event-unregister</c>, <c>/event-subscribers</c>,
    /// <c>/event-subscribers/{id}</c> (paths from <see cref="SseBridgeOptions"/>; a null path is not mapped) and the DTO routes the
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
        var options = services.GetRequiredService<IOptions<SseBridgeOptions>>().Value;
        var subscribers = services.GetRequiredService<SubscriberEndpoints>();
        var group = endpoints.MapGroup("");

        if (SseBridgeOptions.IsOn(options.StreamPath))
        {
            group.MapGet(options.StreamPath, stream.HandleAsync);
        }
        if (SseBridgeOptions.IsOn(options.HeartbeatPath))
        {
            group.Map(options.HeartbeatPath, subscribers.HeartbeatAsync);
        }
        if (SseBridgeOptions.IsOn(options.UnRegisterPath))
        {
            group.Map(options.UnRegisterPath, subscribers.UnRegisterAsync);
        }
        if (SseBridgeOptions.IsOn(options.SubscribersPath))
        {
            group.Map(options.SubscribersPath, subscribers.GetSubscribersAsync);
            group.Map(options.SubscribersPath + "/{id}", subscribers.UpdateSubscriberAsync);
        }
        // The DTO routes of an endpoint that is turned off stay off too.
        foreach (var prefix in options.RoutePrefixes)
        {
            var root = prefix.TrimEnd('/');
            if (SseBridgeOptions.IsOn(options.SubscribersPath))
            {
                group.Map(root + "/UpdateEventSubscriber", subscribers.UpdateSubscriberAsync);
                group.Map(root + "/UpdateEventSubscriber/{id}", subscribers.UpdateSubscriberAsync);
                group.Map(root + "/GetEventSubscribers", subscribers.GetSubscribersAsync);
            }
            if (SseBridgeOptions.IsOn(options.UnRegisterPath))
            {
                group.Map(root + "/UnRegisterEventSubscriber", subscribers.UnRegisterAsync);
                group.Map(root + "/UnRegisterEventSubscriber/{id}", subscribers.UnRegisterAsync);
            }
        }
        return group;
    }
}

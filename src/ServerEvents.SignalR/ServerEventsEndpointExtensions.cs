using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Internal;

namespace ServerEvents;

/// <summary>Maps the Server Events hub.</summary>
public static class ServerEventsEndpointExtensions
{
    /// <summary>
    /// Maps the hub Server Events is bound to (<see cref="ServerEventsHub"/>, or the hub given to
    /// <c>AddServerEvents&lt;THub&gt;</c>) at <paramref name="pattern"/> (for example <c>/hub</c>).
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    /// <param name="configureOptions">Optional settings of SignalR's connection dispatcher (transports, buffer sizes, authorization data).</param>
    /// <remarks>
    /// Like <c>MapHub</c>, plus a guard in front of SignalR: hub clients may not name the library's internal protocols,
    /// each client address is held to <see cref="ServerEventsOptions.MaxConnectionsPerAddress"/>, and a connection that
    /// sends nothing after its handshake is closed after <see cref="ServerEventsOptions.SilentConnectionTimeout"/>.
    /// </remarks>
    public static ConnectionEndpointRouteBuilder MapServerEvents(this IEndpointRouteBuilder endpoints, string pattern, Action<HttpConnectionDispatcherOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var hubType = endpoints.ServiceProvider.GetService<ServerEventsBuilder>()?.HubType
            ?? throw new InvalidOperationException("Call services.AddServerEvents() before mapping the Server Events hub.");
        var map = typeof(ServerEventsEndpointExtensions).GetMethod(nameof(MapHubWithGuard), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        return (ConnectionEndpointRouteBuilder)map.MakeGenericMethod(hubType).Invoke(null, [endpoints, pattern, configureOptions])!;
    }

    private static ConnectionEndpointRouteBuilder MapHubWithGuard<THub>(IEndpointRouteBuilder endpoints, string pattern, Action<HttpConnectionDispatcherOptions>? configureOptions)
        where THub : Hub
    {
        var options = new HttpConnectionDispatcherOptions();
        configureOptions?.Invoke(options);
        var guard = endpoints.ServiceProvider.GetRequiredService<HubConnectionGuard>();
        var conventions = endpoints.MapConnections(pattern, options, connection =>
        {
            connection.Use(next => context => guard.RunAsync(context, next));
            connection.UseHub<THub>();
        });
        // What MapHub adds: the hub's attributes (authorization, CORS) and its type, as endpoint metadata.
        var attributes = typeof(THub).GetCustomAttributes(inherit: true);
        conventions.Add(endpoint =>
        {
            foreach (var attribute in attributes)
            {
                endpoint.Metadata.Add(attribute);
            }
            endpoint.Metadata.Add(new HubMetadata(typeof(THub)));
        });
        return conventions;
    }
}

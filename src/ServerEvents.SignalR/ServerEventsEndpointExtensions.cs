using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents;
using ServerEvents.Internal;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Server Events hub.</summary>
public static class ServerEventsEndpointExtensions
{
    /// <summary>
    /// Maps the hub Server Events is bound to (<see cref="ServerEventsHub"/>, or the hub given to
    /// <c>AddServerEvents&lt;THub&gt;()</c>) at <paramref name="pattern"/> (for example <c>/hub</c>).
    /// </summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    /// <returns>The mapped endpoint, for conventions such as authorization or CORS.</returns>
    /// <remarks>
    /// Like <c>MapHub</c>, plus a guard in front of SignalR: hub clients may not name the library's internal protocols,
    /// each client address is held to <see cref="ServerEventsOptions.MaxConnectionsPerAddress"/>, and a connection that
    /// sends nothing after its handshake is closed after <see cref="ServerEventsOptions.SilentConnectionTimeout"/>.
    /// </remarks>
    /// <exception cref="InvalidOperationException"><c>AddServerEvents()</c> was not called.</exception>
    public static ConnectionEndpointRouteBuilder MapServerEvents(this IEndpointRouteBuilder endpoints, string pattern) =>
        endpoints.MapServerEvents(pattern, _ => { });

    /// <summary>Maps the hub Server Events is bound to at <paramref name="pattern"/>, with SignalR's connection settings.</summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    /// <param name="configureOptions">Settings of SignalR's connection dispatcher (transports, buffer sizes, authorization data).</param>
    /// <returns>The mapped endpoint, for conventions such as authorization or CORS.</returns>
    /// <exception cref="InvalidOperationException"><c>AddServerEvents()</c> was not called.</exception>
    public static ConnectionEndpointRouteBuilder MapServerEvents(this IEndpointRouteBuilder endpoints, string pattern, Action<HttpConnectionDispatcherOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var map = typeof(ServerEventsEndpointExtensions).GetMethod(nameof(MapHubWithGuard), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        // Unwrapped, so that a start-up error (say, options that fail validation) reaches the app as itself.
        return (ConnectionEndpointRouteBuilder)map.MakeGenericMethod(RegisteredHub(endpoints))
            .Invoke(null, System.Reflection.BindingFlags.DoNotWrapExceptions, null, [endpoints, pattern, configureOptions], null)!;
    }

    /// <summary>Maps <typeparamref name="THub"/>, the hub given to <c>AddServerEvents&lt;THub&gt;()</c>, at <paramref name="pattern"/>.</summary>
    /// <typeparam name="THub">The app's Server Events hub.</typeparam>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    /// <returns>The mapped endpoint, for conventions such as authorization or CORS.</returns>
    /// <exception cref="InvalidOperationException">Server Events is not registered, or is bound to another hub.</exception>
    public static ConnectionEndpointRouteBuilder MapServerEvents<THub>(this IEndpointRouteBuilder endpoints, string pattern)
        where THub : ServerEventsHubBase =>
        endpoints.MapServerEvents<THub>(pattern, _ => { });

    /// <summary>Maps <typeparamref name="THub"/>, the hub given to <c>AddServerEvents&lt;THub&gt;()</c>, with SignalR's connection settings.</summary>
    /// <typeparam name="THub">The app's Server Events hub.</typeparam>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    /// <param name="configureOptions">Settings of SignalR's connection dispatcher (transports, buffer sizes, authorization data).</param>
    /// <returns>The mapped endpoint, for conventions such as authorization or CORS.</returns>
    /// <exception cref="InvalidOperationException">Server Events is not registered, or is bound to another hub.</exception>
    public static ConnectionEndpointRouteBuilder MapServerEvents<THub>(this IEndpointRouteBuilder endpoints, string pattern, Action<HttpConnectionDispatcherOptions> configureOptions)
        where THub : ServerEventsHubBase
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var registered = RegisteredHub(endpoints);
        if (registered != typeof(THub))
        {
            // Its connections would not be subscriptions: the API, presence and back-end serve the registered hub only.
            throw new InvalidOperationException(
                $"Server Events is bound to hub {registered.Name}, not {typeof(THub).Name}: register it with services.AddServerEvents<{typeof(THub).Name}>().");
        }
        return MapHubWithGuard<THub>(endpoints, pattern, configureOptions);
    }

    private static Type RegisteredHub(IEndpointRouteBuilder endpoints) =>
        endpoints.ServiceProvider.GetService<ServerEventsBuilder>()?.HubType
            ?? throw new InvalidOperationException("Call services.AddServerEvents() before mapping the Server Events hub.");

    private static ConnectionEndpointRouteBuilder MapHubWithGuard<THub>(IEndpointRouteBuilder endpoints, string pattern, Action<HttpConnectionDispatcherOptions> configureOptions)
        where THub : Hub
    {
        var options = new HttpConnectionDispatcherOptions();
        ArgumentNullException.ThrowIfNull(configureOptions);
        configureOptions(options);
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

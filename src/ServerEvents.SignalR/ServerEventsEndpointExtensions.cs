using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace ServerEvents;

/// <summary>Maps the Server Events hub.</summary>
public static class ServerEventsEndpointExtensions
{
    /// <summary>Maps <see cref="ServerEventsHub"/> at <paramref name="pattern"/> (for example <c>/hub</c>).</summary>
    /// <param name="endpoints">The app's endpoints.</param>
    /// <param name="pattern">URL of the hub.</param>
    public static HubEndpointConventionBuilder MapServerEvents(this IEndpointRouteBuilder endpoints, string pattern) =>
        endpoints.MapHub<ServerEventsHub>(pattern);
}

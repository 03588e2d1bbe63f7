using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;

namespace ServerEvents.Internal;

/// <summary>
/// A user's id as SignalR's <see cref="IUserIdProvider"/> gives it, so that <c>Clients.User(x)</c> and
/// <c>NotifyUserIdAsync(x)</c> reach the same connections; for requests that are not hub connections yet (the SSE
/// bridge's endpoints) the provider is asked with the request and its user, as a hub connection would present them.
/// </summary>
internal sealed class UserIds(IUserIdProvider provider)
{
    private static readonly HubConnectionContextOptions ContextOptions = new();

    /// <summary>The id of the request's authenticated user; null for an anonymous one.</summary>
    public string? Of(HttpContext http)
    {
        var user = http.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }
        // A provider may read the request (GetHttpContext()), not only the user.
        var transport = new DefaultConnectionContext { User = user };
        transport.Features.Set<IHttpContextFeature>(new RequestFeature(http));
        var connection = new HubConnectionContext(transport, ContextOptions, NullLoggerFactory.Instance);
        return provider.GetUserId(connection) ?? Fallback(user);
    }

    private sealed class RequestFeature(HttpContext http) : IHttpContextFeature
    {
        public HttpContext? HttpContext { get; set; } = http;
    }

    /// <summary>
    /// When the provider has no id for an authenticated user (SignalR's default reads only the name identifier claim):
    /// <c>sub</c>, else the name. SignalR's <c>Clients.User</c> cannot reach such a user; Server Events still can.
    /// </summary>
    public static string? Fallback(ClaimsPrincipal user) => user.FindFirstValue("sub") ?? user.Identity?.Name;
}

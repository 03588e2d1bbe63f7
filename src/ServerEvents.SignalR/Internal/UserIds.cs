using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;

namespace ServerEvents.Internal;

/// <summary>
/// A user's id as SignalR's <see cref="IUserIdProvider"/> gives it, so that <c>Clients.User(x)</c> and
/// <c>NotifyUserIdAsync(x)</c> reach the same connections; for requests that are not hub connections yet (the SSE
/// bridge's endpoints) the provider is asked with the request's user.
/// </summary>
internal sealed class UserIds(IUserIdProvider provider)
{
    private static readonly HubConnectionContextOptions ContextOptions = new();

    /// <summary>The id of an authenticated <paramref name="user"/>; null for an anonymous one.</summary>
    public string? Of(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }
        var connection = new HubConnectionContext(new DefaultConnectionContext { User = user }, ContextOptions, NullLoggerFactory.Instance);
        return provider.GetUserId(connection) ?? Fallback(user);
    }

    /// <summary>
    /// When the provider has no id for an authenticated user (SignalR's default reads only the name identifier claim):
    /// <c>sub</c>, else the name. SignalR's <c>Clients.User</c> cannot reach such a user; Server Events still can.
    /// </summary>
    public static string? Fallback(ClaimsPrincipal user) => user.FindFirstValue("sub") ?? user.Identity?.Name;
}

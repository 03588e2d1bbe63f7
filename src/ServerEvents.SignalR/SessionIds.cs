using Microsoft.AspNetCore.Http;

namespace ServerEvents;

/// <summary>Ready-made session id resolvers for <see cref="ServerEventsOptions.ResolveSessionId"/>.</summary>
public static class SessionIds
{
    /// <summary>ServiceStack's conventions: <c>ss-id</c> query parameter, else <c>ss-pid</c> (when <c>ss-opt=perm</c>) or <c>ss-id</c> cookie.</summary>
    /// <param name="context">The request that opens the subscription.</param>
    public static string? FromServiceStackCookies(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var fromQuery = context.Request.Query["ss-id"].ToString();
        if (!string.IsNullOrEmpty(fromQuery))
        {
            return fromQuery;
        }
        var cookies = context.Request.Cookies;
        var permanent = cookies.TryGetValue("ss-opt", out var opt) && opt == "perm";
        if (permanent && cookies.TryGetValue("ss-pid", out var pid) && !string.IsNullOrEmpty(pid))
        {
            return pid;
        }
        return cookies.TryGetValue("ss-id", out var id) && !string.IsNullOrEmpty(id) ? id : null;
    }
}

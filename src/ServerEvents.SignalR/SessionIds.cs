using Microsoft.AspNetCore.Http;

namespace ServerEvents;

/// <summary>ServiceStack's rules for finding the caller's session id, the default of <see cref="ServerEventsOptions.ResolveSessionId"/>.</summary>
public static class SessionIds
{
    /// <summary>
    /// The session id as ServiceStack finds it: <c>ss-pid</c> when <c>ss-opt</c> is <c>perm</c>, else <c>ss-id</c>; each
    /// looked up in the <c>X-ss-…</c> request header, then (only when <paramref name="allowHttpParams"/>) the query string
    /// and form, then the cookie.
    /// </summary>
    /// <param name="context">The request that opens (or drives) the subscription.</param>
    /// <param name="allowHttpParams">
    /// Whether the query string and form may carry session ids (<see cref="ServerEventsOptions.AllowSessionIdsInHttpParams"/>):
    /// off, a link someone was sent cannot put them in another's session.
    /// </param>
    public static string? FromServiceStack(HttpContext context, bool allowHttpParams)
    {
        ArgumentNullException.ThrowIfNull(context);
        var permanent = Param(context, "ss-opt", allowHttpParams) == "perm";
        return (permanent ? Param(context, "ss-pid", allowHttpParams) : null) ?? Param(context, "ss-id", allowHttpParams);
    }

    private static string? Param(HttpContext context, string name, bool allowHttpParams)
    {
        var request = context.Request;
        if (request.Headers["X-" + name].ToString() is { Length: > 0 } header)
        {
            return header;
        }
        if (allowHttpParams)
        {
            if (request.Query[name].ToString() is { Length: > 0 } query)
            {
                return query;
            }
            // Only a form already read: a hub or stream request has none, and reading a body here would block.
            if (request.HasFormContentType && context.Features.Get<Microsoft.AspNetCore.Http.Features.IFormFeature>()?.Form?[name].ToString() is { Length: > 0 } form)
            {
                return form;
            }
        }
        return request.Cookies.TryGetValue(name, out var cookie) && !string.IsNullOrEmpty(cookie) ? cookie : null;
    }
}

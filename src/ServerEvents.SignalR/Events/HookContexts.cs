using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace ServerEvents;

/// <summary>What every hook gets: services and a cancellation token.</summary>
public abstract class ServerEventsHookContext
{
    private protected ServerEventsHookContext(IServiceProvider services, CancellationToken cancellationToken)
    {
        Services = services;
        CancellationToken = cancellationToken;
    }

    /// <summary>Services: the scope of the hub call or request the hook runs for, or a scope of the hook's own.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Cancelled when the request or connection the hook runs for goes away.</summary>
    public CancellationToken CancellationToken { get; }
}

/// <summary>For <see cref="SubscriptionEvents.OnInit"/>: a new connection's request.</summary>
public sealed class SubscriptionInitContext : ServerEventsHookContext
{
    internal SubscriptionInitContext(HttpContext httpContext, IServiceProvider services, CancellationToken cancellationToken)
        : base(services, cancellationToken)
    {
        HttpContext = httpContext;
    }

    /// <summary>The request that opens the connection.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>The caller.</summary>
    public ClaimsPrincipal User => HttpContext.User;
}

/// <summary>For hooks about one subscription.</summary>
public class SubscriptionContext : ServerEventsHookContext
{
    internal SubscriptionContext(SubscriptionInfo subscription, HttpContext? httpContext, IServiceProvider services, CancellationToken cancellationToken)
        : base(services, cancellationToken)
    {
        Subscription = subscription;
        HttpContext = httpContext;
    }

    /// <summary>The subscription.</summary>
    public SubscriptionInfo Subscription { get; }

    /// <summary>The request that opened its connection; null where the hook does not run on that server (a sweep, another server's unregister).</summary>
    public HttpContext? HttpContext { get; }
}

/// <summary>For <see cref="SubscriptionEvents.OnConnect"/>: the subscription and its <c>cmd.onConnect</c> payload.</summary>
public sealed class SubscriptionConnectContext : SubscriptionContext
{
    internal SubscriptionConnectContext(SubscriptionInfo subscription, IDictionary<string, string> connectArgs, HttpContext? httpContext, IServiceProvider services, CancellationToken cancellationToken)
        : base(subscription, httpContext, services, cancellationToken)
    {
        ConnectArgs = connectArgs;
    }

    /// <summary>The <c>cmd.onConnect</c> payload (all values strings); edits are sent.</summary>
    public IDictionary<string, string> ConnectArgs { get; }
}

/// <summary>For <see cref="SubscriptionEvents.OnError"/>.</summary>
public sealed class SubscriptionErrorContext : ServerEventsHookContext
{
    internal SubscriptionErrorContext(SubscriptionInfo? subscription, Exception exception, IServiceProvider services, CancellationToken cancellationToken)
        : base(services, cancellationToken)
    {
        Subscription = subscription;
        Exception = exception;
    }

    /// <summary>The subscription, or null when the error came before it existed.</summary>
    public SubscriptionInfo? Subscription { get; }

    /// <summary>What went wrong.</summary>
    public Exception Exception { get; }
}

/// <summary>Who a notify is for.</summary>
public enum NotifyTarget
{
    /// <summary>Every subscription.</summary>
    All,

    /// <summary>The subscriptions of one or more channels (<see cref="PublishContext.To"/> is a comma list).</summary>
    Channel,

    /// <summary>One subscription.</summary>
    Subscription,

    /// <summary>Every subscription of a user id.</summary>
    UserId,

    /// <summary>Every subscription of a user name.</summary>
    UserName,

    /// <summary>Every subscription of a session.</summary>
    Session,
}

/// <summary>For <see cref="SubscriptionEvents.OnPublish"/>: one notify, before it is sent.</summary>
public sealed class PublishContext : ServerEventsHookContext
{
    internal PublishContext(NotifyTarget target, string? to, string selector, string? channel, string json, IServiceProvider services, CancellationToken cancellationToken)
        : base(services, cancellationToken)
    {
        Target = target;
        To = to;
        Selector = selector;
        Channel = channel;
        Json = json;
    }

    /// <summary>The kind of target.</summary>
    public NotifyTarget Target { get; }

    /// <summary>The channel(s), subscription id, user id, user name or session id; null for <see cref="NotifyTarget.All"/>.</summary>
    public string? To { get; }

    /// <summary>The selector (<c>cmd.chat</c>).</summary>
    public string Selector { get; }

    /// <summary>The channel filter of a notify to a subscription, user or session, if any.</summary>
    public string? Channel { get; }

    /// <summary>The payload as sent.</summary>
    public string Json { get; }
}

/// <summary>What a client asks to do with a channel.</summary>
public enum ChannelAccess
{
    /// <summary>Join it (at connect or at runtime).</summary>
    Join,

    /// <summary>List its subscribers.</summary>
    List,
}

/// <summary>For <see cref="SubscriptionEvents.AuthorizeChannel"/>: who asks to join or list which channel.</summary>
public sealed class ChannelAuthorizationContext : ServerEventsHookContext
{
    internal ChannelAuthorizationContext(string? channel, ChannelAccess access, SubscriptionInfo? subscription, HttpContext? httpContext, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
        : base(services, cancellationToken)
    {
        Channel = channel;
        Access = access;
        Subscription = subscription;
        HttpContext = httpContext;
        User = user;
    }

    /// <summary>
    /// The channel; null when a client lists every subscriber — a list that shows each subscriber's channels, so a rule
    /// that hides a channel's members must refuse null too.
    /// </summary>
    public string? Channel { get; }

    /// <summary>Join or list.</summary>
    public ChannelAccess Access { get; }

    /// <summary>The caller's subscription; null for a list asked over HTTP (the SSE bridge's <c>/event-subscribers</c>).</summary>
    public SubscriptionInfo? Subscription { get; }

    /// <summary>The caller's request (for a hub client, the one that opened its connection).</summary>
    public HttpContext? HttpContext { get; }

    /// <summary>The caller.</summary>
    public ClaimsPrincipal User { get; }
}

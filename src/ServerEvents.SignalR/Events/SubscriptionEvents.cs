namespace ServerEvents;

/// <summary>
/// The app's hooks into Server Events, as ServiceStack's <c>ServerEventsFeature</c> callbacks. Set the delegates on
/// <see cref="ServerEventsOptions.Events"/>, or derive from this class, override the methods, register the class in DI and
/// name it in <see cref="ServerEventsOptions.EventsType"/>. It is then resolved for each hook call from the scope SignalR
/// gives that hub call (the connect hooks share <c>OnConnectedAsync</c>'s, the end hooks <c>OnDisconnectedAsync</c>'s),
/// from a request's scope on the SSE bridge's endpoints, or from a scope of its own — so it may take scoped services.
/// <see cref="OnInit"/>, <see cref="OnCreated"/> and <see cref="OnConnect"/> may throw <see cref="SubscriptionRefusedException"/>
/// to refuse the subscription with a reason.
/// </summary>
public class SubscriptionEvents
{
    /// <summary>Runs first, before anything is built for a new connection (hub or SSE stream). Throw <see cref="SubscriptionRefusedException"/> to refuse it.</summary>
    public Func<SubscriptionInitContext, Task> OnInit { get; set; } = _ => Task.CompletedTask;

    /// <summary>
    /// Runs when a subscription has been built from the request, before it is registered: edit display name, profile URL,
    /// meta, channels, connect args or server args. Channel rules, limits and <see cref="AuthorizeChannel"/> are checked
    /// after it. Throw <see cref="SubscriptionRefusedException"/> to refuse the subscription.
    /// </summary>
    public Func<SubscriptionContext, Task> OnCreated { get; set; } = _ => Task.CompletedTask;

    /// <summary>Runs before <c>cmd.onConnect</c> is sent; may edit its payload (<see cref="SubscriptionConnectContext.ConnectArgs"/>).</summary>
    public Func<SubscriptionConnectContext, Task> OnConnect { get; set; } = _ => Task.CompletedTask;

    /// <summary>Runs after a subscription has been registered and joined its channels.</summary>
    public Func<SubscriptionContext, Task> OnSubscribe { get; set; } = _ => Task.CompletedTask;

    /// <summary>Runs after a subscription's channels changed at runtime; gets the updated subscription.</summary>
    public Func<SubscriptionContext, Task> OnUpdate { get; set; } = _ => Task.CompletedTask;

    /// <summary>Runs once after a subscription has been removed from presence (disconnect, unregister, expiry, a dead server's sweep).</summary>
    public Func<SubscriptionContext, Task> OnUnsubscribe { get; set; } = _ => Task.CompletedTask;

    /// <summary>Runs on the server that held the connection when it has ended, whatever ended it (ServiceStack's <c>OnDispose</c>).</summary>
    public Func<SubscriptionContext, Task> OnDispose { get; set; } = _ => Task.CompletedTask;

    /// <summary>
    /// Runs when SignalR ends a connection with an error (its transport failed) or a hook other than this one throws while a
    /// connection is set up; <see cref="SubscriptionErrorContext.Subscription"/> is null before the subscription exists. A
    /// client closed for falling behind is not an error here: it is counted (<c>serverevents.slow_client.closes</c>) and gets
    /// <see cref="OnDispose"/>.
    /// </summary>
    public Func<SubscriptionErrorContext, Task> OnError { get; set; } = _ => Task.CompletedTask;

    /// <summary>
    /// Runs once per notify on the server that publishes it, before it is sent (ServiceStack runs its <c>OnPublish</c> per
    /// recipient; here fan-out happens in SignalR and Redis, so the hook sees the event and its target instead). Throwing
    /// fails the notify: nothing is sent. An events class publishes through this hook only if it overrides <see cref="PublishAsync"/>.
    /// </summary>
    public Func<PublishContext, Task> OnPublish { get; set; } = NoPublish;

    // Recognised per notify, so that an app without a publish hook pays nothing for it.
    internal static readonly Func<PublishContext, Task> NoPublish = _ => Task.CompletedTask;

    /// <summary>
    /// Decides whether a client may join a channel (at connect and on <c>SubscribeToChannels</c>) or list its subscribers
    /// (the hub's <c>GetChannelSubscribers</c>, the SSE bridge's <c>/event-subscribers</c>); false refuses the request and
    /// changes nothing. Listing everyone asks once with a null channel (and shows every subscriber's channels). Anyone may
    /// do both by default (ServiceStack's behaviour). Server-side calls through
    /// <see cref="IServerEvents"/> are trusted and not checked.
    /// </summary>
    public Func<ChannelAuthorizationContext, Task<bool>> AuthorizeChannel { get; set; } = _ => Task.FromResult(true);

    /// <summary>Calls <see cref="OnInit"/>.</summary>
    /// <param name="context">The connection's request.</param>
    public virtual Task InitAsync(SubscriptionInitContext context) => OnInit(context);

    /// <summary>Calls <see cref="OnCreated"/>.</summary>
    /// <param name="context">The new subscription.</param>
    public virtual Task CreatedAsync(SubscriptionContext context) => OnCreated(context);

    /// <summary>Calls <see cref="OnConnect"/>.</summary>
    /// <param name="context">The subscription and its <c>cmd.onConnect</c> payload.</param>
    public virtual Task ConnectAsync(SubscriptionConnectContext context) => OnConnect(context);

    /// <summary>Calls <see cref="OnSubscribe"/>.</summary>
    /// <param name="context">The registered subscription.</param>
    public virtual Task SubscribeAsync(SubscriptionContext context) => OnSubscribe(context);

    /// <summary>Calls <see cref="OnUpdate"/>.</summary>
    /// <param name="context">The updated subscription.</param>
    public virtual Task UpdateAsync(SubscriptionContext context) => OnUpdate(context);

    /// <summary>Calls <see cref="OnUnsubscribe"/>.</summary>
    /// <param name="context">The removed subscription.</param>
    public virtual Task UnsubscribeAsync(SubscriptionContext context) => OnUnsubscribe(context);

    /// <summary>Calls <see cref="OnDispose"/>.</summary>
    /// <param name="context">The subscription whose connection ended.</param>
    public virtual Task DisposedAsync(SubscriptionContext context) => OnDispose(context);

    /// <summary>Calls <see cref="OnError"/>.</summary>
    /// <param name="context">The error and the subscription, if any.</param>
    public virtual Task ErrorAsync(SubscriptionErrorContext context) => OnError(context);

    /// <summary>Calls <see cref="OnPublish"/>.</summary>
    /// <param name="context">The event about to be sent.</param>
    public virtual Task PublishAsync(PublishContext context) => OnPublish(context);

    /// <summary>Calls <see cref="AuthorizeChannel"/>.</summary>
    /// <param name="context">Who asks for what.</param>
    public virtual Task<bool> AuthorizeChannelAsync(ChannelAuthorizationContext context) => AuthorizeChannel(context);
}

using Microsoft.AspNetCore.SignalR;
using ServerEvents.Internal;

namespace ServerEvents;

/// <summary>
/// Base class that makes a SignalR hub a Server Events hub: each connection is a subscription (channels
/// from <c>?channels=a,b</c>, <c>*</c> when none), and clients may change channels and list subscribers.
/// Derive an app's own hub from it, register it with <c>AddServerEvents&lt;THub&gt;()</c>, and call the
/// base implementation from any <see cref="OnConnectedAsync"/> / <see cref="OnDisconnectedAsync"/> override.
/// </summary>
/// <remarks>
/// Server → client traffic is one client method, <see cref="ClientMethod"/> (<c>"event"</c>), whose only
/// argument is a <see cref="ServerEvent"/>. The first event of every connection is <c>cmd.onConnect</c>. The hub methods
/// are virtual: an override can check or log before calling the base.
/// </remarks>
public abstract class ServerEventsHubBase : Hub
{
    /// <summary>The one client method every event is delivered to.</summary>
    public const string ClientMethod = "event";

    private SubscriptionLifecycle? _lifecycle;
    private IServerEvents? _serverEvents;
    private IServiceProvider? _services;

    /// <summary>The Server Events API, for use inside hub methods.</summary>
    protected IServerEvents ServerEvents => _serverEvents ?? throw NotRegistered();

    private SubscriptionLifecycle Lifecycle => _lifecycle ?? throw NotRegistered();

    private IServiceProvider Services => _services ?? throw NotRegistered();

    /// <inheritdoc />
    public override Task OnConnectedAsync() => Lifecycle.ConnectAsync(Context, Services);

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception) => Lifecycle.DisconnectAsync(Context, exception, Services);

    /// <summary>Joins channels at runtime; members of the old and new channels receive <c>cmd.onUpdate</c>.</summary>
    /// <param name="channels">Channels to join.</param>
    /// <exception cref="HubException">A name is invalid, the limit is reached, or the app refused a channel.</exception>
    public virtual Task SubscribeToChannels(string[] channels) =>
        AsHubErrors(() => Lifecycle.ChangeChannelsAsync(Context.ConnectionId, channels, [], Caller(), Context.ConnectionAborted));

    /// <summary>Leaves channels at runtime; members of the old and new channels receive <c>cmd.onUpdate</c>.</summary>
    /// <param name="channels">Channels to leave.</param>
    /// <exception cref="HubException">A name is invalid.</exception>
    public virtual Task UnsubscribeFromChannels(string[] channels) =>
        AsHubErrors(() => Lifecycle.ChangeChannelsAsync(Context.ConnectionId, [], channels, Caller(), Context.ConnectionAborted));

    /// <summary>
    /// The public meta dictionaries of the subscribers of <paramref name="channels"/> (everyone when empty), if the app's
    /// <see cref="SubscriptionEvents.AuthorizeChannel"/> lets this client list them.
    /// </summary>
    /// <param name="channels">Channels to list.</param>
    /// <exception cref="HubException">A name is invalid, or the app refused the list.</exception>
    public virtual Task<IReadOnlyList<Dictionary<string, string>>> GetChannelSubscribers(string[] channels) =>
        AsHubErrors(async () =>
        {
            // The caller as it is now (its channels may have changed since it connected).
            var caller = await ServerEvents.GetSubscriptionInfoAsync(Context.ConnectionId, Context.ConnectionAborted);
            var listed = await Lifecycle.AuthorizeListAsync(channels, caller, Caller(), Context.ConnectionAborted);
            return listed.Count == 0
                ? await ServerEvents.GetAllSubscriptionsDetailsAsync(Context.ConnectionAborted)
                : await ServerEvents.GetSubscriptionsDetailsAsync(listed, Context.ConnectionAborted);
        });

    internal void Attach(SubscriptionLifecycle lifecycle, IServerEvents serverEvents, IServiceProvider services)
    {
        _lifecycle = lifecycle;
        _serverEvents = serverEvents;
        _services = services;
    }

    private ChannelCaller Caller() => new(Context.User ?? new System.Security.Claims.ClaimsPrincipal(), Context.GetHttpContext(), Services);

    private InvalidOperationException NotRegistered() => new(
        $"Hub {GetType().Name} derives from {nameof(ServerEventsHubBase)} but was not registered with services.AddServerEvents<{GetType().Name}>().");

    // Hub callers get the reason (a HubException's message reaches the client); state was not changed.
    private static async Task<T> AsHubErrors<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is ArgumentException or ChannelAccessDeniedException)
        {
            throw new HubException(ex.Message);
        }
    }
}

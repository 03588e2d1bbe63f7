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
/// argument is a <see cref="ServerEvent"/>. The first event of every connection is <c>cmd.onConnect</c>.
/// </remarks>
public abstract class ServerEventsHubBase : Hub
{
    /// <summary>The one client method every event is delivered to.</summary>
    public const string ClientMethod = "event";

    private SubscriptionLifecycle? _lifecycle;
    private IServerEvents? _serverEvents;

    /// <summary>The Server Events API, for use inside hub methods.</summary>
    protected IServerEvents ServerEvents => _serverEvents ?? throw NotRegistered();

    private SubscriptionLifecycle Lifecycle => _lifecycle ?? throw NotRegistered();

    /// <inheritdoc />
    public override Task OnConnectedAsync() => Lifecycle.ConnectAsync(Context);

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception) => Lifecycle.DisconnectAsync(Context.ConnectionId);

    /// <summary>Joins channels at runtime; members of the old and new channels receive <c>cmd.onUpdate</c>.</summary>
    /// <param name="channels">Channels to join.</param>
    /// <exception cref="HubException">A name is invalid, the limit is reached, or the app refused a channel.</exception>
    public Task SubscribeToChannels(string[] channels) =>
        AsHubErrors(() => Lifecycle.ChangeChannelsAsync(Context.ConnectionId, channels, [], authorize: true, Context.ConnectionAborted));

    /// <summary>Leaves channels at runtime; members of the old and new channels receive <c>cmd.onUpdate</c>.</summary>
    /// <param name="channels">Channels to leave.</param>
    /// <exception cref="HubException">A name is invalid.</exception>
    public Task UnsubscribeFromChannels(string[] channels) =>
        AsHubErrors(() => Lifecycle.ChangeChannelsAsync(Context.ConnectionId, [], channels, authorize: false, Context.ConnectionAborted));

    /// <summary>The public meta dictionaries of the subscribers of <paramref name="channels"/> (all when empty).</summary>
    /// <param name="channels">Channels to list.</param>
    /// <exception cref="HubException">A name is invalid.</exception>
    public Task<IReadOnlyList<Dictionary<string, string>>> GetChannelSubscribers(string[] channels) =>
        AsHubErrors(() => channels is null or []
            ? ServerEvents.GetAllSubscriptionsDetailsAsync(Context.ConnectionAborted)
            : ServerEvents.GetSubscriptionsDetailsAsync(channels, Context.ConnectionAborted));

    internal void Attach(SubscriptionLifecycle lifecycle, IServerEvents serverEvents)
    {
        _lifecycle = lifecycle;
        _serverEvents = serverEvents;
    }

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

using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace ServerEvents.Internal;

/// <summary>
/// Creates the app's hub like SignalR's default activator does (constructor injection, DI-registered hubs
/// respected) and hands a <see cref="ServerEventsHubBase"/> its services, so apps' hub constructors stay their own.
/// </summary>
internal sealed class ServerEventsHubActivator<THub>(IServiceProvider services, SubscriptionLifecycle lifecycle, IServerEvents serverEvents)
    : IHubActivator<THub>
    where THub : Hub
{
    private static readonly ObjectFactory Factory = ActivatorUtilities.CreateFactory(typeof(THub), Type.EmptyTypes);
    private bool _created;

    public THub Create()
    {
        var hub = services.GetService<THub>();
        if (hub is null)
        {
            hub = (THub)Factory(services, []);
            _created = true;
        }
        if (hub is ServerEventsHubBase serverEventsHub)
        {
            serverEventsHub.Attach(lifecycle, serverEvents, services);
        }
        return hub;
    }

    public void Release(THub hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        // Only dispose what we created; DI owns registered hubs.
        if (_created)
        {
            hub.Dispose();
        }
    }
}

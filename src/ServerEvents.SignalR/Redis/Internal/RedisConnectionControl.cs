using Microsoft.AspNetCore.SignalR;
using ServerEvents.Internal;

namespace ServerEvents.Redis.Internal;

/// <summary><see cref="ConnectionControl"/> for the cluster: closes a connection on whichever server owns it.</summary>
internal sealed class RedisConnectionControl<THub>(HubLifetimeManager<THub> manager) : ConnectionControl
    where THub : Hub
{
    private readonly RedisHubLifetimeManager<THub> _manager = (RedisHubLifetimeManager<THub>)manager;

    public override Task CloseAsync(string connectionId, CancellationToken cancellationToken) =>
        _manager.CloseConnectionAsync(connectionId, cancellationToken);

    public override Task CloseAllAsync(CancellationToken cancellationToken) => _manager.CloseAllAsync(cancellationToken);
}

namespace ServerEvents.Internal;

/// <summary>
/// Closes connections wherever they are: locally on the memory back-end
/// (<see cref="LocalConnectionControl"/>), on any server through Redis on the Redis back-end.
/// </summary>
internal abstract class ConnectionControl
{
    /// <summary>Closes one connection.</summary>
    public abstract Task CloseAsync(string connectionId, CancellationToken cancellationToken);

    /// <summary>Closes every connection on every server.</summary>
    public abstract Task CloseAllAsync(CancellationToken cancellationToken);
}

/// <summary>The one-server <see cref="ConnectionControl"/>.</summary>
internal sealed class LocalConnectionControl(LocalConnections local) : ConnectionControl
{
    public override Task CloseAsync(string connectionId, CancellationToken cancellationToken)
    {
        local.Abort(connectionId);
        return Task.CompletedTask;
    }

    public override Task CloseAllAsync(CancellationToken cancellationToken)
    {
        local.AbortAll();
        return Task.CompletedTask;
    }
}

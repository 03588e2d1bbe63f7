namespace ServerEvents;

/// <summary>Counters reported by <see cref="IServerEvents.GetStatsAsync"/>.</summary>
/// <param name="ServerId">Id of the server that answered.</param>
/// <param name="TotalSubscriptions">Live subscriptions on all servers.</param>
/// <param name="LocalSubscriptions">Live subscriptions whose connection this server owns.</param>
/// <param name="TotalConnections">Subscriptions this server has registered since start.</param>
/// <param name="TotalUnsubscriptions">Subscriptions this server has removed since start.</param>
/// <param name="NotificationsSent">Events this server has published since start (one per target).</param>
public sealed record ServerEventsStats(
    string ServerId,
    int TotalSubscriptions,
    int LocalSubscriptions,
    long TotalConnections,
    long TotalUnsubscriptions,
    long NotificationsSent);

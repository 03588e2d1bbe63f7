namespace ServerEvents.Internal;

/// <summary>
/// Marks a <c>HubLifetimeManager</c> that assigns <see cref="ServerEvent.EventId"/> itself, atomically with
/// publishing (the Redis manager: one script runs INCR, PUBLISH and the history XADD in one round trip, so ids are unique
/// across servers). <see cref="HubEventDelivery{THub}"/> then sends events with id 0 for it to stamp.
/// </summary>
internal interface IStampsEventIds;

namespace ServerEvents.Internal;

/// <summary>Thrown when an operation names a subscription id that does not exist (or no longer exists).</summary>
internal sealed class SubscriptionNotFoundException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="subscriptionId"/>.</summary>
    /// <param name="subscriptionId">The unknown id.</param>
    public SubscriptionNotFoundException(string subscriptionId)
        : base($"Subscription '{ChannelNameRules.Printable(subscriptionId)}' does not exist.", nameof(subscriptionId))
    {
        SubscriptionId = subscriptionId;
    }

    /// <summary>The unknown id.</summary>
    public string SubscriptionId { get; }
}

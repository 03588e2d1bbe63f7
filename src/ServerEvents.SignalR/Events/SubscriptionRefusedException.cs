namespace ServerEvents;

/// <summary>
/// Thrown by a hook (<see cref="SubscriptionEvents.OnInit"/>, <see cref="SubscriptionEvents.OnCreated"/>,
/// <see cref="SubscriptionEvents.OnConnect"/>) to refuse a subscription: a hub client's connection is closed with the
/// message, an SSE stream is answered 403 with it. Nothing of the subscription is left behind.
/// </summary>
public sealed class SubscriptionRefusedException : Exception
{
    /// <summary>Refuses with a generic reason.</summary>
    public SubscriptionRefusedException()
        : base("The subscription was refused.")
    {
    }

    /// <summary>Refuses with <paramref name="message"/>, which the client sees.</summary>
    /// <param name="message">The reason, shown to the client.</param>
    public SubscriptionRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Refuses with <paramref name="message"/> because of <paramref name="innerException"/> (not shown to the client).</summary>
    /// <param name="message">The reason, shown to the client.</param>
    /// <param name="innerException">The cause.</param>
    public SubscriptionRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace ServerEvents.Resp;

/// <summary>Capped exponential back-off with jitter, so many app servers do not reconnect in lock-step.</summary>
internal sealed class ReconnectPolicy(TimeSpan min, TimeSpan max)
{
    public TimeSpan Delay(int attempt)
    {
        var exponential = min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        // Jitter in [50%, 100%] of the capped delay.
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }
}

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

    /// <summary>
    /// Tries <paramref name="connect"/> after each back-off delay until it succeeds; a connection failure is
    /// handed to <paramref name="failed"/> and retried. Returns the number of attempts, or 0 when cancelled.
    /// </summary>
    public async Task<int> RetryAsync(Func<Task> connect, Func<Exception, Task> failed, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await Task.Delay(Delay(attempt), cancellationToken);
                await connect();
                return attempt + 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or IOException)
            {
                await failed(ex);
            }
        }
    }
}

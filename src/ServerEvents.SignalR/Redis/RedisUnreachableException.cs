namespace ServerEvents.Redis;

/// <summary>
/// Redis could not be reached, and what was asked was certainly not done: a notification refused because the buffer
/// for an outage is full (<see cref="RedisBackplaneOptions.MaxBufferedNotifications"/>), a join while this server cannot
/// read its inbox, or the first connection at start-up. The message names the endpoint, never the password. Sending the
/// same thing again later cannot make it happen twice.
/// </summary>
public sealed class RedisUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisUnreachableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was not done, and where Redis is.</param>
    public RedisUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was not done, and where Redis is.</param>
    /// <param name="innerException">The client's own error, when there is one.</param>
    public RedisUnreachableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

namespace ServerEvents.Resp;

/// <summary>The bytes received from Redis are not valid RESP; the connection is dropped.</summary>
public sealed class RedisProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was wrong.</param>
    public RedisProtocolException(string message)
        : base(message)
    {
    }
}

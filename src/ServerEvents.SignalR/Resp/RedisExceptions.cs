namespace ServerEvents.Resp;

/// <summary>Redis could not be reached, or the connection to it was lost. The message names the endpoint, never the password.</summary>
public sealed class RedisConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, including the endpoint.</param>
    /// <param name="innerException">The underlying socket or protocol error.</param>
    /// <param name="unsent">The command failed before any of it was written to Redis.</param>
    public RedisConnectionException(string message, Exception? innerException = null, bool unsent = false)
        : base(message, innerException)
    {
        Unsent = unsent;
    }

    /// <summary>
    /// True when the command certainly never reached Redis (there was no connection to write it to), so
    /// sending it again cannot run it twice; false when it may or may not have run.
    /// </summary>
    public bool Unsent { get; }
}

/// <summary>Redis answered a command with an error reply (<c>-ERR …</c>).</summary>
public sealed class RedisServerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The command and Redis's error text.</param>
    /// <param name="reply">Redis's error text alone (<c>LOADING …</c>), whose first word is the error code.</param>
    public RedisServerException(string message, string? reply = null)
        : base(message)
    {
        Code = reply is null ? "" : reply.Split(' ', 2)[0];
    }

    /// <summary>The error code: the first word of Redis's reply (<c>ERR</c>, <c>NOSCRIPT</c>, <c>LOADING</c>, …).</summary>
    public string Code { get; }

    /// <summary>
    /// Redis did not run the command and will once it is ready: it is loading its data, busy with a script, a replica
    /// not yet writable, or a cluster state in flux. Sending the same command again later is safe.
    /// </summary>
    public bool IsTransient => Code is "LOADING" or "BUSY" or "READONLY" or "MASTERDOWN" or "TRYAGAIN";
}

/// <summary>A Redis command's reply did not arrive within the command timeout.</summary>
public sealed class RedisTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The command, the endpoint and the timeout.</param>
    public RedisTimeoutException(string message)
        : base(message)
    {
    }
}

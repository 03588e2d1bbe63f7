using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>What a StackExchange.Redis failure means for us: never sent, not run yet, or maybe run.</summary>
internal static class RedisErrors
{
    /// <summary>The command certainly never reached Redis (no connection to write it to): sending it again cannot run it twice.</summary>
    public static bool IsUnsent(Exception ex) => ex switch
    {
        // No connection to the node at all (a fail-over in progress, say): nothing was written either.
        RedisConnectionException c => c.CommandStatus is CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog
            || c.FailureType is ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection,
        RedisTimeoutException t => t.Commandstatus is CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog,
        RedisUnreachableException => true,
        _ => false,
    };

    /// <summary>
    /// Redis did not run the command and will once it is ready: loading its data, busy with a script, a replica not yet
    /// writable, or a cluster in flux.
    /// </summary>
    public static bool IsTransient(RedisServerException ex) =>
        ex.Message.StartsWith("LOADING", StringComparison.Ordinal) || ex.Message.StartsWith("BUSY", StringComparison.Ordinal)
        || ex.Message.StartsWith("READONLY", StringComparison.Ordinal) || ex.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
        || ex.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || ex.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);

    /// <summary>Any failure to get an answer from Redis (as opposed to a bug of ours).</summary>
    public static bool IsRedisFailure(Exception ex) => ex is RedisException or TimeoutException or RedisUnreachableException;
}

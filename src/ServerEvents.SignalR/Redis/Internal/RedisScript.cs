using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// A Lua script run with EVALSHA by its SHA-1 (one round trip, the text is not resent); when Redis has forgotten it
/// (NOSCRIPT: a restart, a fail-over, another cluster node) it is sent once by text, which loads it again on that node.
/// </summary>
/// <remarks>
/// Not StackExchange.Redis's text overload on every call: it finds the loaded script by hashing the whole text each
/// time (seen at 2 % of all CPU under user-targeted notifies).
/// </remarks>
internal sealed class RedisScript(string name, string text)
{
    // Redis names cached scripts by their SHA-1; this is an identifier, not a security use.
#pragma warning disable CA5350
    private readonly byte[] _sha = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350

    public string Name { get; } = name;

    /// <summary>Runs the script; its round trip is recorded as <c>serverevents.redis.duration</c>, failed or not.</summary>
    /// <param name="backplane">Where to run it; the first key decides the node on a cluster.</param>
    /// <param name="keys">KEYS.</param>
    /// <param name="args">ARGV.</param>
    /// <param name="cancellationToken">Stops waiting (the script may still run).</param>
    public async Task<RedisResult> RunAsync(RedisBackplane backplane, RedisKey[] keys, RedisValue[] args, CancellationToken cancellationToken = default)
    {
        var database = backplane.Database;
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await database.ScriptEvaluateAsync(_sha, keys, args).WaitAsync(cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(text, keys, args).WaitAsync(cancellationToken);
        }
        finally
        {
            backplane.Metrics.RedisCall(Name, started);
        }
    }
}

using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// A Lua script, named for messages. StackExchange.Redis runs it with EVALSHA once it has loaded it on a node (one round
/// trip, the text is not resent), and loads it again by itself when Redis has forgotten it (NOSCRIPT: a restart, a
/// fail-over, another cluster node).
/// </summary>
internal sealed class RedisScript(string name, string text)
{
    public string Name { get; } = name;

    /// <param name="database">Where to run it; the first key decides the node on a cluster.</param>
    /// <param name="keys">KEYS.</param>
    /// <param name="args">ARGV.</param>
    /// <param name="cancellationToken">Stops waiting (the script may still run).</param>
    public Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args, CancellationToken cancellationToken = default) =>
        database.ScriptEvaluateAsync(text, keys, args).WaitAsync(cancellationToken);
}

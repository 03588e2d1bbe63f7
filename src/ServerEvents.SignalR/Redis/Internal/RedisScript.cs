using System.Security.Cryptography;
using System.Text;
using ServerEvents.Resp;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// A Lua script run with EVALSHA (one round trip, the script text is not resent); when Redis has
/// forgotten it (NOSCRIPT, e.g. after a restart) it is sent once with EVAL, which caches it again.
/// </summary>
internal sealed class RedisScript(string name, string text)
{
    // Redis names cached scripts by their SHA-1; this is an identifier, not a security use.
#pragma warning disable CA5350
    private readonly string _sha = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350

    public string Name { get; } = name;

    /// <param name="connection">Where to run it.</param>
    /// <param name="keys">KEYS.</param>
    /// <param name="args">ARGV.</param>
    /// <param name="cancellationToken">Stops waiting (the script may still run).</param>
    public async Task<RespValue> RunAsync(RedisConnection connection, IReadOnlyList<string> keys, IReadOnlyList<object> args, CancellationToken cancellationToken = default)
    {
        var reply = await connection.SendAsync(Build("EVALSHA", _sha, keys, args), cancellationToken);
        if (reply.IsError && reply.AsString()!.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            reply = await connection.SendAsync(Build("EVAL", text, keys, args), cancellationToken);
        }
        return reply.IsError
            ? throw new RedisServerException($"Script {Name} failed on {connection.Options.EndPoint}: {reply.AsString()}", reply.AsString())
            : reply;
    }

    private static RespCommand Build(string command, string script, IReadOnlyList<string> keys, IReadOnlyList<object> args) =>
        RespCommand.Create(command, [script, (long)keys.Count, .. keys, .. args]);
}

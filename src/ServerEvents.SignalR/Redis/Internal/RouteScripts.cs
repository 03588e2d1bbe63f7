namespace ServerEvents.Redis.Internal;

/// <summary>
/// Routes: which servers a group, a SignalR user or a connection has local members on, so that a send reaches only those
/// servers' inboxes. A server adds a route with its first local member and removes it with its last; each server also
/// lists its own routes, so that the servers sweeping a dead one can take its routes out. Key names follow <see cref="RedisKeys"/>.
/// </summary>
internal static class RouteScripts
{
    /// <summary>
    /// KEYS: the server's own route list. ARGV: prefix, server, "+" add / "-" remove, then routes (<see cref="Routes"/>:
    /// groups, users, connections). A connection route is removed only while it still names this server.
    /// </summary>
    public static readonly RedisScript Change = new("route-change", """
        local p, server, add = ARGV[1], ARGV[2], ARGV[3] == '+'
        for i = 4, #ARGV do
          local route = ARGV[i]
          local kind, name = string.sub(route, 1, 1), string.sub(route, 2)
          if kind == 'c' then
            if add then
              redis.call('HSET', p .. ':route:conns', name, server)
            elseif redis.call('HGET', p .. ':route:conns', name) == server then
              redis.call('HDEL', p .. ':route:conns', name)
            end
          elseif add then
            redis.call('SADD', p .. ':route:' .. kind .. ':' .. name, server)
          else
            redis.call('SREM', p .. ':route:' .. kind .. ':' .. name, server)
          end
          if add then redis.call('SADD', KEYS[1], route) else redis.call('SREM', KEYS[1], route) end
        end
        return 1
        """);

    /// <summary>
    /// Takes up to ARGV[3] routes of a server out (bounded work per call): a dead one, or one leaving. KEYS: its route list,
    /// the inbox sequences, and for a dead one its liveness key. ARGV: prefix, server, batch size. Returns how many routes
    /// it still has (at 0 its inbox sequence is forgotten too), or -1 when the liveness key is back: it was not dead.
    /// </summary>
    public static readonly RedisScript Sweep = new("route-sweep", """
        if #KEYS > 2 and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
        local p, server = ARGV[1], ARGV[2]
        for _, route in ipairs(redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))) do
          local kind, name = string.sub(route, 1, 1), string.sub(route, 2)
          if kind == 'c' then
            if redis.call('HGET', p .. ':route:conns', name) == server then redis.call('HDEL', p .. ':route:conns', name) end
          else
            redis.call('SREM', p .. ':route:' .. kind .. ':' .. name, server)
          end
        end
        local left = redis.call('SCARD', KEYS[1])
        if left == 0 then redis.call('HDEL', KEYS[2], server) end
        return left
        """);
}

/// <summary>How a send names where it goes; the send script (<see cref="EventScripts.Send"/>) looks each up.</summary>
internal static class Routes
{
    /// <summary>Every server (SignalR's <c>Clients.All</c>, closing everything).</summary>
    public const string All = "a";

    public static string Group(string group) => "g" + group;

    public static string User(string userId) => "u" + userId;

    public static string Connection(string connectionId) => "c" + connectionId;

    /// <summary>A server's inbox directly (acknowledgements, client results, probes).</summary>
    public static string Server(string serverId) => "s" + serverId;
}

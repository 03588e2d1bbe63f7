namespace ServerEvents.Redis.Internal;

/// <summary>
/// The presence operations as Lua scripts: each runs atomically in one round trip and keeps the
/// subscription hash, the index sets and the per-channel counts in step. Key names follow
/// <see cref="RedisKeys"/>; ARGV[1] is always the prefix (hash tag included, so every key a script builds is in the slot
/// of the key it is called with). Channel lists are comma lists (channel names
/// cannot contain commas).
/// </summary>
internal static class PresenceScripts
{
    // Shared Lua helpers, prepended to the scripts that need them.
    private const string Helpers = """
        local function subkey(p, id) return p .. ':sub:' .. id end
        local function idx(p, kind, key) return p .. ':idx:' .. kind .. ':' .. key end
        local function each(csv) return string.gmatch(csv, '[^,]+') end
        local function unindex(p, id, f)
          redis.call('SREM', p .. ':subs', id)
          redis.call('SREM', p .. ':server:' .. f[4] .. ':subs', id)
          redis.call('SREM', idx(p, 'uid', f[5]), id)
          if f[6] ~= '' then redis.call('SREM', idx(p, 'uname', f[6]), id) end
          if f[7] ~= '' then redis.call('SREM', idx(p, 'sid', f[7]), id) end
          for ch in each(f[2]) do
            redis.call('SREM', idx(p, 'channel', ch), id)
            if redis.call('HINCRBY', p .. ':counts', ch, -1) <= 0 then redis.call('HDEL', p .. ':counts', ch) end
          end
        end
        local function remove(p, id)
          local key = subkey(p, id)
          local f = redis.call('HMGET', key, 'info', 'channels', 'pulse', 'server', 'uid', 'uname', 'sid')
          if not f[1] then return nil end
          unindex(p, id, f)
          redis.call('DEL', key)
          return {f[1], f[2], f[3], f[4]}
        end
        """;

    /// <summary>ARGV: prefix, id, info, channels, pulse, server, uid, uname, sid, replace (1 = restore over an existing entry).</summary>
    public static readonly RedisScript Add = new("presence-add", Helpers + "\n" + """
        local p, id = ARGV[1], ARGV[2]
        if redis.call('EXISTS', subkey(p, id)) == 1 then
          if ARGV[10] ~= '1' then return redis.error_reply('DUPLICATE subscription ' .. id) end
          remove(p, id)
        end
        redis.call('HSET', subkey(p, id), 'info', ARGV[3], 'channels', ARGV[4], 'pulse', ARGV[5], 'server', ARGV[6], 'uid', ARGV[7], 'uname', ARGV[8], 'sid', ARGV[9])
        redis.call('SADD', p .. ':subs', id)
        redis.call('SADD', p .. ':server:' .. ARGV[6] .. ':subs', id)
        redis.call('SADD', idx(p, 'uid', ARGV[7]), id)
        if ARGV[8] ~= '' then redis.call('SADD', idx(p, 'uname', ARGV[8]), id) end
        if ARGV[9] ~= '' then redis.call('SADD', idx(p, 'sid', ARGV[9]), id) end
        for ch in each(ARGV[4]) do
          redis.call('SADD', idx(p, 'channel', ch), id)
          redis.call('HINCRBY', p .. ':counts', ch, 1)
        end
        return 1
        """);

    /// <summary>ARGV: prefix, id. Returns {info, channels, pulse, server} of the removed entry, or nil.</summary>
    public static readonly RedisScript Remove = new("presence-remove", Helpers + "\n" + """
        return remove(ARGV[1], ARGV[2])
        """);

    /// <summary>KEYS: sets to union. ARGV: prefix. Returns a flat list of {id, info, channels, pulse, server} per subscription.</summary>
    public static readonly RedisScript Fetch = new("presence-fetch", Helpers + "\n" + """
        local ids = redis.call('SUNION', unpack(KEYS))
        local out = {}
        for _, id in ipairs(ids) do
          local f = redis.call('HMGET', subkey(ARGV[1], id), 'info', 'channels', 'pulse', 'server')
          if f[1] then
            table.insert(out, id); table.insert(out, f[1]); table.insert(out, f[2]); table.insert(out, f[3]); table.insert(out, f[4])
          end
        end
        return out
        """);

    /// <summary>
    /// ARGV: prefix, id, add, remove, max. Removes then adds (ServiceStack's order), keeping join order.
    /// Returns {before, after, info, pulse, server}, nil when unknown, or an error "LIMIT n".
    /// </summary>
    public static readonly RedisScript UpdateChannels = new("presence-update-channels", Helpers + "\n" + """
        local p, id, max = ARGV[1], ARGV[2], tonumber(ARGV[5])
        local key = subkey(p, id)
        local f = redis.call('HMGET', key, 'info', 'channels', 'pulse', 'server')
        if not f[1] then return nil end
        local before, removing, list, has, was, grew = f[2], {}, {}, {}, {}, false
        for ch in each(ARGV[4]) do removing[ch] = true end
        for ch in each(before) do
          was[ch] = true
          if not removing[ch] then table.insert(list, ch); has[ch] = true end
        end
        for ch in each(ARGV[3]) do
          if not has[ch] then table.insert(list, ch); has[ch] = true; grew = true end
        end
        if grew and #list > max then return redis.error_reply('LIMIT ' .. #list) end
        for ch in each(before) do
          if not has[ch] then
            redis.call('SREM', idx(p, 'channel', ch), id)
            if redis.call('HINCRBY', p .. ':counts', ch, -1) <= 0 then redis.call('HDEL', p .. ':counts', ch) end
          end
        end
        for _, ch in ipairs(list) do
          if not was[ch] then
            redis.call('SADD', idx(p, 'channel', ch), id)
            redis.call('HINCRBY', p .. ':counts', ch, 1)
          end
        end
        local after = table.concat(list, ',')
        redis.call('HSET', key, 'channels', after)
        return {before, after, f[1], f[3], f[4]}
        """);

    /// <summary>ARGV: prefix, id, pulse. Returns 1, or 0 when the subscription is unknown.</summary>
    public static readonly RedisScript Pulse = new("presence-pulse", Helpers + "\n" + """
        local key = subkey(ARGV[1], ARGV[2])
        if redis.call('EXISTS', key) == 0 then return 0 end
        redis.call('HSET', key, 'pulse', ARGV[3])
        return 1
        """);

    /// <summary>ARGV: prefix. Removes every subscription entry (sequences stay). Returns how many.</summary>
    public static readonly RedisScript Clear = new("presence-clear", Helpers + "\n" + """
        local p = ARGV[1]
        local ids = redis.call('SMEMBERS', p .. ':subs')
        for _, id in ipairs(ids) do remove(p, id) end
        return #ids
        """);

    /// <summary>KEYS: the sequence. ARGV: prefix, floor. Raises the sequence to at least the floor (never lowers it).</summary>
    public static readonly RedisScript RaiseSequence = new("presence-raise-sequence", """
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
        return 1
        """);
}

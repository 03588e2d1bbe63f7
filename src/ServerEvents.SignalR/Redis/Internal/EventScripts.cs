namespace ServerEvents.Redis.Internal;

/// <summary>
/// Publishing an event and reading the history back, each one script and so one round trip. Key names
/// follow <see cref="RedisKeys"/>.
/// </summary>
/// <remarks>
/// The id counter starts at the current time in µs whenever it is created (first use, or Redis lost its data),
/// so ids keep increasing across servers and across Redis restarts without persistence, at the cost of one
/// INCR in the steady state; the floor records where the counter (and so every history) started.
/// With an age cap, the clock (a sorted set: the first event id of each second, scored by Redis's own time in
/// ms, so app servers' clocks do not matter) turns "older than the cap" into "an id below X": streams are
/// trimmed to it when written and expire when idle for longer than the cap.
/// </remarks>
internal static class EventScripts
{
    /// <summary>
    /// KEYS: counter, floor, clock, [publish token,] then ARGV[3] channels to publish to, then history streams.
    /// ARGV: counter start, message body, channel count, count cap, age cap in ms (0: none), "1" when KEYS[4] is a
    /// publish token. A token makes a retried publish run once: it keeps the id it got for an hour.
    /// Returns the event id.
    /// </summary>
    public static readonly RedisScript Publish = new("publish-event", """
        local first = 4
        if ARGV[6] == '1' then
          local done = redis.call('GET', KEYS[4])
          if done then return tonumber(done) end
          first = 5
        end
        local id = redis.call('INCR', KEYS[1])
        if id == 1 then
          id = tonumber(ARGV[1])
          redis.call('SET', KEYS[1], ARGV[1])
          redis.call('SET', KEYS[2], ARGV[1])
        end
        local sid = string.format('%d', id)
        if first == 5 then redis.call('SET', KEYS[4], sid, 'EX', 3600) end
        local message = sid .. ARGV[2]
        local streams = first + tonumber(ARGV[3])
        for i = first, streams - 1 do
          redis.call('PUBLISH', KEYS[i], message)
        end
        local maxAge = tonumber(ARGV[5])
        local minId
        if maxAge > 0 and streams <= #KEYS then
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
          if #last == 0 or tonumber(last[2]) <= now - 1000 then
            redis.call('ZADD', KEYS[3], string.format('%d', now), sid)
            redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%d', now - maxAge))
          end
          minId = redis.call('ZRANGEBYSCORE', KEYS[3], string.format('%d', now - maxAge), '+inf', 'LIMIT', 0, 1)[1]
        end
        for i = streams, #KEYS do
          redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[4], sid .. '-1', 'm', message)
          if minId then
            redis.call('XTRIM', KEYS[i], 'MINID', minId .. '-0')
            redis.call('PEXPIRE', KEYS[i], maxAge)
          end
        end
        return id
        """);

    /// <summary>
    /// What a resuming connection missed. KEYS: floor, counter, clock, then history streams. ARGV: the first entry id
    /// wanted ("{last + 1}-0"), counter start, age cap in ms (0: none).
    /// Returns the floor, the counter, the first id younger than the age cap (0 without a cap), then per stream:
    /// 1 if it exists, the id below which entries may have been trimmed from it (0: none trimmed), and its
    /// messages from ARGV[1] on.
    /// A missing counter (Redis lost its data) is started here, so ids issued from now on are known to follow.
    /// </summary>
    public static readonly RedisScript ReadHistory = new("read-history", """
        local current = redis.call('GET', KEYS[2])
        if not current then
          current = ARGV[2]
          redis.call('SET', KEYS[2], current)
          redis.call('SET', KEYS[1], string.format('%d', tonumber(current) + 1))
        end
        local floor = redis.call('GET', KEYS[1])
        if not floor then
          floor = string.format('%d', tonumber(current) + 1)
          redis.call('SET', KEYS[1], floor)
        end
        local young = '0'
        local maxAge = tonumber(ARGV[3])
        if maxAge > 0 then
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          young = redis.call('ZRANGEBYSCORE', KEYS[3], string.format('%d', now - maxAge), '+inf', 'LIMIT', 0, 1)[1]
            or string.format('%d', tonumber(current) + 1)
        end
        local out = { floor, current, young }
        for i = 4, #KEYS do
          if redis.call('EXISTS', KEYS[i]) == 1 then
            local info = redis.call('XINFO', 'STREAM', KEYS[i])
            local f = {}
            for j = 1, #info, 2 do f[info[j]] = info[j + 1] end
            -- Trimmed entries all precede the first kept one (or, when none is kept, follow no later one).
            local below = 0
            if f['entries-added'] > f['length'] then
              local edge = f['length'] > 0 and f['recorded-first-entry-id'] or f['last-generated-id']
              below = tonumber(string.match(edge, '^(%d+)'))
              if f['length'] == 0 then below = below + 1 end
            end
            local entries = {}
            local range = redis.call('XRANGE', KEYS[i], ARGV[1], '+')
            for j = 1, #range do entries[#entries + 1] = range[j][2][2] end
            out[#out + 1] = 1
            out[#out + 1] = string.format('%d', below)
            out[#out + 1] = entries
          else
            out[#out + 1] = 0
            out[#out + 1] = '0'
            out[#out + 1] = {}
          end
        end
        return out
        """);
}

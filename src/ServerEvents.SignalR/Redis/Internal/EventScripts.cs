namespace ServerEvents.Redis.Internal;

/// <summary>
/// Sending to servers' inboxes (events with their id and history) and reading the history back, each one script and so
/// one round trip. Key names follow <see cref="RedisKeys"/>.
/// </summary>
/// <remarks>
/// Ids follow Redis's clock in µs (the last id + 1 when events come faster than one a µs), so they keep increasing
/// across servers, across Redis restarts without persistence and across a fail-over to a replica that missed the last
/// writes; the floor records where the counter (and so every history) started.
/// With an age cap, the clock (a sorted set: the first event id of each second, scored by Redis's own time in
/// ms, so app servers' clocks do not matter) turns "older than the cap" into "an id below X": streams are
/// trimmed to it when written and expire when idle for longer than the cap.
/// </remarks>
internal static class EventScripts
{
    // Shared by both send scripts: the history writes, and the servers that routes ARGV[first .. first + count - 1] name
    // (see Routes), each once, in order, leaving out skip.
    private const string SendHelpers = """
        -- The history clock ticks at most once a second (the first id of each second, scored by Redis's time in ms);
        -- returns the first id younger than the age cap.
        local function age_floor(clock, now, maxAge, sid)
          local newest = redis.call('ZRANGE', clock, -1, -1, 'WITHSCORES')
          if #newest == 0 or tonumber(newest[2]) <= now - 1000 then
            redis.call('ZADD', clock, string.format('%d', now), sid)
            redis.call('ZREMRANGEBYSCORE', clock, '-inf', '(' .. string.format('%d', now - maxAge))
          end
          return redis.call('ZRANGEBYSCORE', clock, string.format('%d', now - maxAge), '+inf', 'LIMIT', 0, 1)[1]
        end
        -- Adds an event to a target's history, trimmed by count and (with minId) by age; idle streams expire with the cap.
        local function keep(stream, sid, message, maxLen, minId, maxAge)
          redis.call('XADD', stream, 'MAXLEN', '~', maxLen, sid .. '-1', 'm', message)
          if minId then
            redis.call('XTRIM', stream, 'MINID', minId .. '-0')
            redis.call('PEXPIRE', stream, maxAge)
          end
        end
        local function servers_of(p, first, count, skip)
          local seen, servers = {}, {}
          local function add(s)
            if s ~= skip and not seen[s] then seen[s] = true; servers[#servers + 1] = s end
          end
          for i = first, first + count - 1 do
            local kind, name = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2)
            if kind == 'a' then
              for _, s in ipairs(redis.call('SMEMBERS', p .. ':servers')) do add(s) end
            elseif kind == 'g' or kind == 'u' then
              for _, s in ipairs(redis.call('SMEMBERS', p .. ':route:' .. kind .. ':' .. name)) do add(s) end
            elseif kind == 'c' then
              local s = redis.call('HGET', p .. ':route:conns', name)
              if s then add(s) end
            else
              add(name)
            end
          end
          return servers
        end

        """;

    /// <summary>
    /// Looks up which servers a message is for and publishes it once to each one's inbox, prefixed with that inbox's next
    /// sequence number ("{seq}."), so a server can tell when it missed one. For an event it first takes the next id,
    /// prepends it to the body and adds it to the history streams.
    /// KEYS: counter, floor, clock, inbox sequences, publish token (or the counter again), then the history streams.
    /// ARGV: prefix, body, "1" event, "1" sharded inboxes (always, since Redis 7.0), route count R, the client's channel prefix
    /// (which a subscriber's channel names carry, "" none), count cap, age cap in ms (0: none),
    /// "1" when KEYS[5] is a publish token, a server to leave out ("" none), then R routes (<see cref="Routes"/>).
    /// A token makes a retried publish run once: it keeps the id it got for an hour.
    /// Returns {event id (0 for other messages), servers sent to, receivers}.
    /// </summary>
    public static readonly RedisScript Send = new("send", SendHelpers + """
        local p = ARGV[1]
        if ARGV[9] == '1' then
          local done = redis.call('GET', KEYS[5])
          if done then return { tonumber(done), -1, -1 } end
        end
        local routes, first = tonumber(ARGV[5]), 11
        local servers = servers_of(p, first, routes, ARGV[10])
        local id, message = 0, ARGV[2]
        local now
        if ARGV[3] == '1' then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local last = tonumber(redis.call('GET', KEYS[1]) or '0')
          id = math.max(last + 1, tonumber(t[1]) * 1000000 + tonumber(t[2]))
          local sid = string.format('%d', id)
          redis.call('SET', KEYS[1], sid)
          if last == 0 then redis.call('SET', KEYS[2], sid) end
          if ARGV[9] == '1' then redis.call('SET', KEYS[5], sid, 'EX', 3600) end
          message = sid .. message
        end
        local publish = ARGV[4] == '1' and 'SPUBLISH' or 'PUBLISH'
        local receivers = 0
        for _, s in ipairs(servers) do
          local seq = redis.call('HINCRBY', KEYS[4], s, 1)
          receivers = receivers + redis.call(publish, ARGV[6] .. p .. ':inbox:' .. s, string.format('%d', seq) .. '.' .. message)
        end
        if id > 0 and #KEYS > 5 then
          local sid = string.format('%d', id)
          local maxAge = tonumber(ARGV[8])
          local minId
          if maxAge > 0 then
            minId = age_floor(KEYS[3], now, maxAge, sid)
          end
          for i = 6, #KEYS do
            keep(KEYS[i], sid, message, ARGV[7], minId, maxAge)
          end
        end
        return { id, #servers, receivers }
        """);

    /// <summary>
    /// <see cref="Send"/> for several events at once, in order (the notifies one server made while the previous call was
    /// under way): ids, history and routes per event as there, but one message per server for all of them —
    /// "{seq}.B" followed by "{length}:{id}{body}" per event — so a server reads one inbox message per call.
    /// KEYS: counter, floor, clock, inbox sequences. ARGV: prefix, the client's channel prefix, count cap, age cap in ms
    /// (0: none), event count, then per event: body, route count R, R routes, stream count S, S streams (same slot).
    /// Returns the events' ids, in order.
    /// </summary>
    public static readonly RedisScript SendBatch = new("send-batch", SendHelpers + """
        local p, cp, maxLen, maxAge = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
        local t = redis.call('TIME')
        local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local last = tonumber(redis.call('GET', KEYS[1]) or '0')
        local started = last == 0
        local frames, order, ids = {}, {}, {}
        local minId, ticked = nil, false
        local i = 6
        for _ = 1, tonumber(ARGV[5]) do
          local body, routes = ARGV[i], tonumber(ARGV[i + 1])
          i = i + 2
          local servers = servers_of(p, i, routes, nil)
          i = i + routes
          local id = math.max(last + 1, nowUs)
          last = id
          local sid = string.format('%d', id)
          if started then
            redis.call('SET', KEYS[2], sid)
            started = false
          end
          ids[#ids + 1] = id
          local message = sid .. body
          for _, s in ipairs(servers) do
            if not frames[s] then frames[s] = {}; order[#order + 1] = s end
            local f = frames[s]
            f[#f + 1] = string.len(message) .. ':' .. message
          end
          local streams = tonumber(ARGV[i])
          i = i + 1
          if streams > 0 and maxAge > 0 and not ticked then
            ticked = true
            minId = age_floor(KEYS[3], now, maxAge, sid)
          end
          for k = i, i + streams - 1 do
            keep(ARGV[k], sid, message, maxLen, minId, maxAge)
          end
          i = i + streams
        end
        redis.call('SET', KEYS[1], string.format('%d', last))
        for _, s in ipairs(order) do
          local seq = redis.call('HINCRBY', KEYS[4], s, 1)
          redis.call('SPUBLISH', cp .. p .. ':inbox:' .. s, string.format('%d', seq) .. '.B' .. table.concat(frames[s]))
        end
        return ids
        """);

    /// <summary>
    /// What a resuming connection missed. KEYS: floor, counter, clock, then history streams. ARGV: the first entry id
    /// wanted ("{last + 1}-0"), age cap in ms (0: none).
    /// Returns the floor, the counter, the first id younger than the age cap (0 without a cap), then per stream:
    /// 1 if it exists, the id below which entries may have been trimmed from it (0: none trimmed), and its
    /// messages from ARGV[1] on.
    /// A missing counter (Redis lost its data) is started here, at the clock, so ids issued from now on are known to follow.
    /// </summary>
    public static readonly RedisScript ReadHistory = new("read-history", """
        local t = redis.call('TIME')
        local current = redis.call('GET', KEYS[2])
        if not current then
          current = string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2]))
          redis.call('SET', KEYS[2], current)
          redis.call('SET', KEYS[1], string.format('%d', tonumber(current) + 1))
        end
        local floor = redis.call('GET', KEYS[1])
        if not floor then
          floor = string.format('%d', tonumber(current) + 1)
          redis.call('SET', KEYS[1], floor)
        end
        local young = '0'
        local maxAge = tonumber(ARGV[2])
        if maxAge > 0 then
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

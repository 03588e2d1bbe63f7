using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ServerEvents.Internal;
using ServerEvents.Presence;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>
/// Cluster-wide presence in Redis: each operation is one Lua script (atomic, one round trip) over the
/// keys described in <see cref="RedisKeys"/>. The subscriptions this server owns are also kept in memory,
/// so they can be registered again after Redis lost its data (a restart without persistence).
/// </summary>
internal sealed class RedisSubscriptionStore(RedisBackplane backplane) : ISubscriptionStore
{
    private readonly RedisKeys _keys = backplane.Keys;
    private readonly ConcurrentDictionary<string, SubscriptionInfo> _owned = new(StringComparer.Ordinal);

    /// <summary>Snapshots of the subscriptions whose connection this server owns.</summary>
    public IReadOnlyCollection<SubscriptionInfo> Owned => [.. _owned.Values.Select(s => s.Clone())];

    public async Task AddAsync(SubscriptionInfo subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        try
        {
            await WriteAsync(subscription, replace: false, cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("DUPLICATE", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Subscription '{subscription.SubscriptionId}' is already registered.", nameof(subscription));
        }
        if (subscription.ServerId == backplane.ServerId)
        {
            _owned[subscription.SubscriptionId] = subscription.Clone();
        }
    }

    /// <summary>Writes a subscription again over whatever Redis has (after Redis lost its data).</summary>
    public Task RestoreAsync(SubscriptionInfo subscription, CancellationToken cancellationToken = default) =>
        WriteAsync(subscription, replace: true, cancellationToken);

    public async Task<SubscriptionInfo?> RemoveAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        // Forget it locally first: if Redis is down now, a later restore must not bring it back.
        _owned.TryRemove(subscriptionId, out _);
        var reply = await Run(PresenceScripts.Remove, [], [subscriptionId], cancellationToken);
        return reply.IsNull ? null : Read(subscriptionId, Values(reply), 0);
    }

    public async Task<SubscriptionInfo?> GetAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        await backplane.EnsureConnectedAsync(cancellationToken);
        var reply = await backplane.Database.HashGetAsync(_keys.Subscription(subscriptionId), ["info", "channels", "pulse", "server"]).WaitAsync(cancellationToken);
        return reply[0].IsNull ? null : Read(subscriptionId, [.. reply.Select(v => (string?)v)], 0);
    }

    public Task<IReadOnlyList<SubscriptionInfo>> FindAsync(SubscriptionIndex index, string key, CancellationToken cancellationToken = default) =>
        FetchAsync([_keys.Index(IndexName(index), key)], cancellationToken);

    public Task<IReadOnlyList<SubscriptionInfo>> FindInChannelsAsync(IReadOnlyCollection<string> channels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channels);
        return channels.Count == 0
            ? Task.FromResult<IReadOnlyList<SubscriptionInfo>>([])
            : FetchAsync([.. channels.Select(c => _keys.Index("channel", c))], cancellationToken);
    }

    public Task<IReadOnlyList<SubscriptionInfo>> GetAllAsync(CancellationToken cancellationToken = default) =>
        FetchAsync([_keys.Subscriptions], cancellationToken);

    public async Task<int> CountAsync(CancellationToken cancellationToken = default)
    {
        await backplane.EnsureConnectedAsync(cancellationToken);
        return (int)await backplane.Database.SetLengthAsync(_keys.Subscriptions).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, int>> GetChannelCountsAsync(CancellationToken cancellationToken = default)
    {
        await backplane.EnsureConnectedAsync(cancellationToken);
        var entries = await backplane.Database.HashGetAllAsync(_keys.Counts).WaitAsync(cancellationToken);
        return entries.ToDictionary(e => (string)e.Name!, e => (int)e.Value, StringComparer.Ordinal);
    }

    public async Task<ChannelChange?> UpdateChannelsAsync(string subscriptionId, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, int maxChannels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(add);
        ArgumentNullException.ThrowIfNull(remove);
        RedisResult reply;
        try
        {
            reply = await Run(PresenceScripts.UpdateChannels, [], [subscriptionId, string.Join(',', add), string.Join(',', remove), (long)maxChannels], cancellationToken);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("LIMIT ", StringComparison.Ordinal))
        {
            var count = ex.Message[(ex.Message.LastIndexOf(' ') + 1)..];
            throw new ArgumentException($"A subscription may be in at most {maxChannels} channels; this change would make it {count}.", nameof(add));
        }
        if (reply.IsNull)
        {
            return null;
        }
        var items = Values(reply);
        var before = Split(items[0]);
        var after = Read(subscriptionId, [items[2], items[1], items[3], items[4]], 0);
        if (_owned.TryGetValue(subscriptionId, out var owned))
        {
            owned.Channels = after.Channels;
        }
        return new ChannelChange(before, after);
    }

    public async Task<bool> PulseAsync(string subscriptionId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (long)await Run(PresenceScripts.Pulse, [], [subscriptionId, now.ToUnixTimeMilliseconds()], cancellationToken) == 1;

    public async Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken = default)
    {
        await backplane.EnsureConnectedAsync(cancellationToken);
        return await backplane.Database.StringIncrementAsync(_keys.Sequence(name)).WaitAsync(cancellationToken);
    }

    /// <summary>Raises a sequence to at least <paramref name="floor"/>, so numbers handed out before Redis lost its data are not handed out again.</summary>
    public Task RaiseSequenceAsync(string name, long floor, CancellationToken cancellationToken = default) =>
        Run(PresenceScripts.RaiseSequence, [_keys.Sequence(name)], [floor], cancellationToken);

    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        _owned.Clear();
        await Run(PresenceScripts.Clear, [], [], cancellationToken);
    }

    private async Task WriteAsync(SubscriptionInfo info, bool replace, CancellationToken cancellationToken) =>
        await Run(PresenceScripts.Add, [],
        [
            info.SubscriptionId,
            JsonSerializer.Serialize(info, ServerEventsJson.Default.SubscriptionInfo),
            string.Join(',', info.Channels),
            info.LastPulseAt.ToUnixTimeMilliseconds(),
            info.ServerId,
            info.UserId,
            info.UserName ?? "",
            info.SessionId ?? "",
            replace ? "1" : "0",
        ], cancellationToken);

    private async Task<IReadOnlyList<SubscriptionInfo>> FetchAsync(IReadOnlyList<RedisKey> sets, CancellationToken cancellationToken)
    {
        var items = Values(await Run(PresenceScripts.Fetch, sets, [], cancellationToken));
        var result = new List<SubscriptionInfo>(items.Length / 5);
        for (var i = 0; i + 4 < items.Length; i += 5)
        {
            result.Add(Read(items[i]!, items, i + 1));
        }
        return result;
    }

    private static string?[] Values(RedisResult reply) => [.. ((RedisResult[])reply!).Select(r => (string?)r)];

    /// <summary>Builds a snapshot from {info, channels, pulse, server} starting at <paramref name="offset"/>.</summary>
    private static SubscriptionInfo Read(string id, string?[] fields, int offset)
    {
        var info = JsonSerializer.Deserialize(fields[offset]!, ServerEventsJson.Default.SubscriptionInfo)
            ?? throw new InvalidOperationException($"Subscription '{id}' has an empty record in Redis.");
        info.Channels = Split(fields[offset + 1]);
        if (long.TryParse(fields[offset + 2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pulse))
        {
            info.LastPulseAt = DateTimeOffset.FromUnixTimeMilliseconds(pulse);
        }
        return info;
    }

    private static string[] Split(string? csv) => string.IsNullOrEmpty(csv) ? [] : csv.Split(',');

    private static string IndexName(SubscriptionIndex index) => index switch
    {
        SubscriptionIndex.Channel => "channel",
        SubscriptionIndex.UserId => "uid",
        SubscriptionIndex.UserName => "uname",
        SubscriptionIndex.Session => "sid",
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>Runs a presence script; with no keys of its own, the subscription set names the node (all keys share one slot).</summary>
    private async Task<RedisResult> Run(RedisScript script, IReadOnlyList<RedisKey> keys, RedisValue[] args, CancellationToken cancellationToken)
    {
        await backplane.EnsureConnectedAsync(cancellationToken);
        return await script.RunAsync(backplane, keys.Count == 0 ? [_keys.Subscriptions] : [.. keys], [_keys.Prefix, .. args], cancellationToken);
    }
}

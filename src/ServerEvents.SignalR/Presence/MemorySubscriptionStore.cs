namespace ServerEvents.Presence;

/// <summary>
/// In-process presence for a single app server: a dictionary by id plus one set per index key, all
/// guarded by one lock (every operation is a handful of dictionary updates, so contention stays low).
/// </summary>
internal sealed class MemorySubscriptionStore : ISubscriptionStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SubscriptionInfo> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<(SubscriptionIndex Index, string Key), HashSet<string>> _indexes = [];
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task AddAsync(SubscriptionInfo subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var copy = subscription.Clone();
        lock (_gate)
        {
            if (!_byId.TryAdd(copy.SubscriptionId, copy))
            {
                throw new ArgumentException($"Subscription '{copy.SubscriptionId}' is already registered.", nameof(subscription));
            }
            Index(copy, add: true);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<SubscriptionInfo?> RemoveAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_byId.Remove(subscriptionId, out var removed))
            {
                return Task.FromResult<SubscriptionInfo?>(null);
            }
            Index(removed, add: false);
            return Task.FromResult<SubscriptionInfo?>(removed);
        }
    }

    /// <inheritdoc />
    public Task<SubscriptionInfo?> GetAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_byId.TryGetValue(subscriptionId, out var info) ? info.Clone() : null);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SubscriptionInfo>> FindAsync(SubscriptionIndex index, string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(Snapshot(_indexes.GetValueOrDefault((index, key))));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SubscriptionInfo>> FindInChannelsAsync(IReadOnlyCollection<string> channels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channels);
        lock (_gate)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var channel in channels)
            {
                if (_indexes.TryGetValue((SubscriptionIndex.Channel, channel), out var members))
                {
                    ids.UnionWith(members);
                }
            }
            return Task.FromResult(Snapshot(ids));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SubscriptionInfo>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<SubscriptionInfo>>([.. _byId.Values.Select(s => s.Clone())]);
        }
    }

    /// <inheritdoc />
    public Task<int> CountAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_byId.Count);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, int>> GetChannelCountsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyDictionary<string, int> counts = _indexes
                .Where(e => e.Key.Index == SubscriptionIndex.Channel)
                .ToDictionary(e => e.Key.Key, e => e.Value.Count, StringComparer.Ordinal);
            return Task.FromResult(counts);
        }
    }

    /// <inheritdoc />
    public Task<ChannelChange?> UpdateChannelsAsync(string subscriptionId, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, int maxChannels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(add);
        ArgumentNullException.ThrowIfNull(remove);
        lock (_gate)
        {
            if (!_byId.TryGetValue(subscriptionId, out var info))
            {
                return Task.FromResult<ChannelChange?>(null);
            }
            var before = info.Channels;
            var after = ChannelLists.Apply(before, add, remove, maxChannels);
            foreach (var left in before.Except(after, StringComparer.Ordinal))
            {
                RemoveFromIndex(SubscriptionIndex.Channel, left, subscriptionId);
            }
            foreach (var joined in after.Except(before, StringComparer.Ordinal))
            {
                AddToIndex(SubscriptionIndex.Channel, joined, subscriptionId);
            }
            info.Channels = after;
            return Task.FromResult<ChannelChange?>(new ChannelChange(before, info.Clone()));
        }
    }

    /// <inheritdoc />
    public Task<bool> PulseAsync(string subscriptionId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(subscriptionId, out var info))
            {
                return Task.FromResult(false);
            }
            info.LastPulseAt = now;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var next = _sequences.GetValueOrDefault(name) + 1;
            _sequences[name] = next;
            return Task.FromResult(next);
        }
    }

    /// <inheritdoc />
    public Task ClearAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _byId.Clear();
            _indexes.Clear();
        }
        return Task.CompletedTask;
    }

    private IReadOnlyList<SubscriptionInfo> Snapshot(IEnumerable<string>? ids) =>
        ids is null ? [] : [.. ids.Select(id => _byId[id].Clone())];

    private void Index(SubscriptionInfo info, bool add)
    {
        foreach (var (index, key) in IndexKeys(info))
        {
            if (add)
            {
                AddToIndex(index, key, info.SubscriptionId);
            }
            else
            {
                RemoveFromIndex(index, key, info.SubscriptionId);
            }
        }
    }

    private static IEnumerable<(SubscriptionIndex, string)> IndexKeys(SubscriptionInfo info)
    {
        foreach (var channel in info.Channels)
        {
            yield return (SubscriptionIndex.Channel, channel);
        }
        yield return (SubscriptionIndex.UserId, info.UserId);
        if (info.UserName is { } userName)
        {
            yield return (SubscriptionIndex.UserName, userName);
        }
        if (info.SessionId is { } sessionId)
        {
            yield return (SubscriptionIndex.Session, sessionId);
        }
    }

    private void AddToIndex(SubscriptionIndex index, string key, string id)
    {
        if (!_indexes.TryGetValue((index, key), out var set))
        {
            _indexes[(index, key)] = set = new HashSet<string>(StringComparer.Ordinal);
        }
        set.Add(id);
    }

    private void RemoveFromIndex(SubscriptionIndex index, string key, string id)
    {
        // Empty sets are dropped so channel counts and memory follow the live subscriptions.
        if (_indexes.TryGetValue((index, key), out var set) && set.Remove(id) && set.Count == 0)
        {
            _indexes.Remove((index, key));
        }
    }
}

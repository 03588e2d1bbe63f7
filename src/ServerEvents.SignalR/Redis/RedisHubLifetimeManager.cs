using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using ServerEvents.Resp;

namespace ServerEvents.Redis;

/// <summary>
/// SignalR's scale-out seam on our own Redis client: every send is published once to one Redis channel
/// (all, group, connection or user), and every server delivers what it receives to its local connections.
/// Server Events envelopes (<see cref="ServerEvent"/>) get a cluster-unique id from the same script that
/// publishes them, in one round trip, and reach every recipient — the publisher's own too — through the
/// pub/sub stream, hence in id order everywhere; other invocations are written to local recipients directly.
/// </summary>
/// <typeparam name="THub">The hub type.</typeparam>
internal sealed partial class RedisHubLifetimeManager<THub> : HubLifetimeManager<THub>, IStampsEventIds, IAsyncDisposable
    where THub : Hub
{
    private static readonly TimeSpan DrainRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly RedisBackplane _backplane;
    private readonly int _historyPerTarget;
    private readonly long _historyMaxAgeMs;
    private readonly CancellationTokenSource _disposed = new();
    private readonly RedisKeys _keys;
    private readonly string _serverId;
    private readonly IHubProtocolResolver _protocols;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, LocalConnection> _connections = new(StringComparer.Ordinal);
    private readonly LocalGroups _groups = new();
    private readonly LocalGroups _users = new();
    private readonly StripedLock _channelLocks = new();
    private readonly AckTracker _acks = new();
    private readonly DeliveryWatermark _delivered = new();
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private bool _started;

    public RedisHubLifetimeManager(RedisBackplane backplane, IHubProtocolResolver protocols, IOptions<ServerEventsOptions> options, ILogger<RedisHubLifetimeManager<THub>> logger)
    {
        _historyPerTarget = options.Value.HistoryPerTarget;
        _historyMaxAgeMs = options.Value.HistoryMaxAge is { } age && age > TimeSpan.Zero ? Math.Max(1, (long)age.TotalMilliseconds) : 0;
        _backplane = backplane;
        _keys = backplane.Keys;
        _serverId = backplane.ServerId;
        _protocols = protocols;
        _logger = logger;
    }

    /// <summary>Connections this server owns.</summary>
    internal int LocalConnectionCount => _connections.Count;

    /// <inheritdoc />
    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await EnsureStartedAsync(connection.ConnectionAborted);
        var local = new LocalConnection(connection);
        var id = connection.ConnectionId;
        // Subscribe before registering, so nothing published to this connection after connect is missed. Not
        // cancelled with the connection: Redis may take a SUBSCRIBE we stopped waiting for, and nothing would undo it.
        await _backplane.Subscriber.SubscribeAsync(_keys.Connection(id), (_, message) => OnConnectionMessage(local, message), CancellationToken.None);
        _connections[id] = local;
        if (connection.UserIdentifier is { } user)
        {
            await JoinAsync(_users, _keys.User(user), user, local, OnUserMessage);
        }
    }

    /// <inheritdoc />
    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_connections.TryRemove(connection.ConnectionId, out var local))
        {
            return;
        }
        // Before its groups are listed for leaving: a join still under way then sees it and undoes itself.
        local.Departed = true;
        ForgetBackfill(local);
        await Quietly(() => _backplane.Subscriber.UnsubscribeAsync(_keys.Connection(local.Id)));
        foreach (var group in local.Groups)
        {
            await Quietly(() => LeaveAsync(_groups, _keys.Group(group), group, local));
        }
        if (connection.UserIdentifier is { } user)
        {
            await Quietly(() => LeaveAsync(_users, _keys.User(user), user, local));
        }
        await FailClientResultsOf(local.Id);
    }

    /// <inheritdoc />
    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        PublishAsync([_keys.All], _connections.Values, [], [GroupNames.All], null, methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        PublishAsync([_keys.All], _connections.Values, [], [GroupNames.All], excludedConnectionIds, methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendConnectionsAsync([connectionId], methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionIds);
        var local = new List<LocalConnection>();
        var localChannels = new List<string>();
        var remote = new List<string>();
        foreach (var id in connectionIds.Distinct(StringComparer.Ordinal))
        {
            if (_connections.TryGetValue(id, out var connection))
            {
                local.Add(connection);
                localChannels.Add(_keys.Connection(id));
            }
            else
            {
                remote.Add(_keys.Connection(id));
            }
        }
        return PublishAsync(remote, local, localChannels, [], null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendGroupExceptAsync(groupName, methodName, args, [], cancellationToken);

    /// <inheritdoc />
    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupName);
        return PublishAsync([_keys.Group(groupName)], _groups.Members(groupName), [], [groupName], excludedConnectionIds, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupNames);
        // One serialization and one round trip for all groups; like SignalR's own managers, a connection in
        // several of the groups gets the message once per group.
        return PublishAsync([.. groupNames.Select(_keys.Group)], groupNames.SelectMany(_groups.Members).ToList(), [], groupNames, null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return PublishAsync([_keys.User(userId)], _users.Members(userId), [], [], null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        return PublishAsync([.. userIds.Select(_keys.User)], userIds.SelectMany(_users.Members).ToList(), [], [], null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(connectionId, groupName, add: true, cancellationToken);

    /// <inheritdoc />
    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default) =>
        ChangeGroupAsync(connectionId, groupName, add: false, cancellationToken);

    /// <summary>Closes a connection wherever it is; false when no server owns it.</summary>
    internal async Task<bool> CloseConnectionAsync(string connectionId, CancellationToken cancellationToken)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            local.Context.Abort();
            return true;
        }
        await EnsureStartedAsync(cancellationToken);
        var receivers = await PublishRawAsync(_keys.Connection(connectionId), BackplaneProtocol.WriteOrigin(BackplaneProtocol.Close, _serverId), cancellationToken);
        return receivers > 0;
    }

    /// <summary>Closes every connection on every server.</summary>
    internal async Task CloseAllAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken);
        await PublishRawAsync(_keys.Control, BackplaneProtocol.WriteOrigin(BackplaneProtocol.CloseAll, _serverId), cancellationToken);
        AbortAllLocal();
    }

    /// <summary>The groups a local connection is in, or null when this server does not own it.</summary>
    internal string[]? LocalGroupsOf(string connectionId) =>
        _connections.TryGetValue(connectionId, out var local) ? local.Groups : null;

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        _backplane.Subscriber.Disconnected -= OnPubSubLost;
        _backplane.Subscriber.Reconnected -= OnPubSubBackAsync;
        _startLock.Dispose();
    }

    private async Task ChangeGroupAsync(string connectionId, string groupName, bool add, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        ArgumentNullException.ThrowIfNull(groupName);
        if (_connections.TryGetValue(connectionId, out var local))
        {
            await ChangeLocalGroupAsync(local, groupName, add);
            return;
        }
        await EnsureStartedAsync(cancellationToken);
        var (requestId, acked) = _acks.Create();
        var verb = add ? "add" : "remove";
        var receivers = await PublishRawAsync(_keys.Connection(connectionId), BackplaneProtocol.WriteGroup(_serverId, requestId, add, groupName), cancellationToken);
        if (receivers == 0)
        {
            _acks.Forget(requestId);
            if (!add)
            {
                return;
            }
            throw new InvalidOperationException($"Cannot {verb} connection '{connectionId}' to group '{groupName}': no server owns that connection.");
        }
        await _acks.WaitAsync(requestId, acked, _backplane.Options.AckTimeout, $"Group {verb} of connection '{connectionId}' for '{groupName}'", cancellationToken);
    }

    private Task ChangeLocalGroupAsync(LocalConnection local, string group, bool add) => add
        ? JoinAsync(_groups, _keys.Group(group), group, local, OnGroupMessage)
        : LeaveAsync(_groups, _keys.Group(group), group, local);

    private async Task JoinAsync(LocalGroups groups, string channel, string name, LocalConnection local, Action<string, ReadOnlyMemory<byte>> handler)
    {
        using (await _channelLocks.LockAsync(channel))
        {
            // While pub/sub is down (or still resubscribing) a member of an already subscribed group would not get
            // what is published meanwhile, and nothing would back-fill it: refuse, as Redis is unreachable.
            if (!_backplane.Subscriber.IsConnected)
            {
                throw new RedisConnectionException($"Cannot join '{name}': the pub/sub connection to Redis at {_backplane.Options.Connection.EndPoint} is down.", unsent: true);
            }
            // The first local member subscribes the channel; subscribing completes before the member is listed.
            if (groups.IsEmpty(name))
            {
                await _backplane.Subscriber.SubscribeAsync(channel, (_, message) => handler(name, message));
            }
            groups.Add(name, local);
            if (groups == _groups)
            {
                local.Joined(name);
            }
            // It left while this join waited (a remote request, or a join racing its disconnect): OnDisconnectedAsync
            // may have listed its groups before this one, so nothing else would take it out again.
            if (local.Departed)
            {
                await LeaveLockedAsync(groups, channel, name, local);
            }
        }
    }

    private async Task LeaveAsync(LocalGroups groups, string channel, string name, LocalConnection local)
    {
        using (await _channelLocks.LockAsync(channel))
        {
            await LeaveLockedAsync(groups, channel, name, local);
        }
    }

    /// <summary>Takes a local member out of a group; the last one unsubscribes its channel. Called under the channel's lock.</summary>
    private async Task LeaveLockedAsync(LocalGroups groups, string channel, string name, LocalConnection local)
    {
        if (groups == _groups)
        {
            local.Left(name);
        }
        if (groups.Remove(name, local))
        {
            await _backplane.Subscriber.UnsubscribeAsync(channel);
        }
    }

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _started))
        {
            return;
        }
        await _startLock.WaitAsync(cancellationToken);
        try
        {
            if (_started)
            {
                return;
            }
            await _backplane.EnsureConnectedAsync(cancellationToken);
            var subscriber = _backplane.Subscriber;
            await subscriber.SubscribeAsync(_keys.All, (_, message) => Deliver(message, _connections.Values, direct: false), cancellationToken);
            await subscriber.SubscribeAsync(_keys.Control, (_, message) => OnControlMessage(message), cancellationToken);
            await subscriber.SubscribeAsync(_keys.Ack(_serverId), (_, message) => OnAckMessage(message), cancellationToken);
            subscriber.Disconnected += OnPubSubLost;
            subscriber.Reconnected += OnPubSubBackAsync;
            Volatile.Write(ref _started, true);
        }
        finally
        {
            _startLock.Release();
        }
    }

    private void AbortAllLocal()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Context.Abort();
        }
    }

    private static async Task Quietly(Func<Task> cleanup)
    {
        try
        {
            await cleanup();
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            // Redis is down: its subscriptions are gone with the connection, and the reconnect re-subscribes only live ones.
        }
    }
}

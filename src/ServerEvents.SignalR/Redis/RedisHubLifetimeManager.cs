using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>
/// SignalR's scale-out seam on StackExchange.Redis. Each server reads one ordered inbox; Redis keeps routes (which
/// servers have local members of a group, a user, a connection), and one script per send looks them up and publishes
/// the message once to each server that needs it — so a server receives only what has local recipients, in one order.
/// Server Events envelopes (<see cref="ServerEvent"/>) get a cluster-unique id from the same script, and reach every
/// recipient — the publisher's own too — through the inboxes, hence in id order everywhere; other invocations are
/// written to local recipients directly.
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
    private readonly StripedLock _routeLocks = new();
    private readonly AckTracker _acks = new();
    private readonly DeliveryWatermark _delivered;
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private ChannelMessageQueue? _inbox;
    private bool _started;

    public RedisHubLifetimeManager(RedisBackplane backplane, IHubProtocolResolver protocols, IOptions<ServerEventsOptions> options, ILogger<RedisHubLifetimeManager<THub>> logger)
    {
        _historyPerTarget = options.Value.HistoryPerTarget;
        _historyMaxAgeMs = options.Value.HistoryMaxAge is { } age && age > TimeSpan.Zero ? Math.Max(1, (long)age.TotalMilliseconds) : 0;
        _backplane = backplane;
        _delivered = new DeliveryWatermark(backplane.Options.AckTimeout);
        _keys = backplane.Keys;
        _serverId = backplane.ServerId;
        _protocols = protocols;
        _logger = logger;
    }

    /// <summary>Connects and starts reading this server's inbox (at app start, so that an unreachable Redis fails it).</summary>
    internal Task StartAsync(CancellationToken cancellationToken) => EnsureStartedAsync(cancellationToken);

    /// <summary>Connections this server owns.</summary>
    internal int LocalConnectionCount => _connections.Count;

    /// <inheritdoc />
    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await EnsureStartedAsync(connection.ConnectionAborted);
        // Joining from here until its join (fresh or resuming) releases it: a back-fill after a pub/sub loss must not
        // release it before its cmd.onConnect, nor with events from before its subscription point.
        var local = new LocalConnection(connection) { Resuming = true };
        var id = connection.ConnectionId;
        // Listed before it is routed: whatever the route brings finds it (a client-result call arriving in between was
        // answered "disconnected"). Not cancelled with the connection: Redis may run a change we stopped waiting for, and
        // the disconnect's removal (SignalR calls OnDisconnectedAsync also when this throws) must come after it.
        _connections[id] = local;
        await ChangeRoutesAsync(add: true, [Routes.Connection(id)], CancellationToken.None);
        if (connection.UserIdentifier is { } user)
        {
            await JoinAsync(_users, Routes.User(user), user, local);
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
        await Quietly(() => ChangeRoutesAsync(add: false, [Routes.Connection(local.Id)], CancellationToken.None));
        foreach (var group in local.Groups)
        {
            await Quietly(() => LeaveAsync(_groups, Routes.Group(group), group, local));
        }
        if (connection.UserIdentifier is { } user)
        {
            await Quietly(() => LeaveAsync(_users, Routes.User(user), user, local));
        }
        await FailClientResultsOf(local.Id);
    }

    /// <inheritdoc />
    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        PublishAsync([Routes.All], [Routes.All], Targets.All, _connections.Values, [GroupNames.All], null, methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default) =>
        PublishAsync([Routes.All], [Routes.All], Targets.All, _connections.Values, [GroupNames.All], excludedConnectionIds, methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendConnectionsAsync([connectionId], methodName, args, cancellationToken);

    /// <inheritdoc />
    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionIds);
        var ids = connectionIds.Distinct(StringComparer.Ordinal).ToArray();
        var local = new List<LocalConnection>();
        var remote = new List<string>();
        foreach (var id in ids)
        {
            if (_connections.TryGetValue(id, out var connection))
            {
                local.Add(connection);
            }
            else
            {
                remote.Add(Routes.Connection(id));
            }
        }
        // Events go through the inboxes to local connections too, to stay in the one order; invocations only to others.
        return PublishAsync([.. ids.Select(Routes.Connection)], remote, new Targets(TargetKind.Connections, ids), local, [], null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default) =>
        SendGroupExceptAsync(groupName, methodName, args, [], cancellationToken);

    /// <inheritdoc />
    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupName);
        string[] routes = [Routes.Group(groupName)];
        return PublishAsync(routes, routes, new Targets(TargetKind.Groups, [groupName]), _groups.Members(groupName), [groupName], excludedConnectionIds, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupNames);
        // One serialization and one round trip for all groups; like SignalR's own managers, a connection in
        // several of the groups gets the message once per group.
        string[] routes = [.. groupNames.Select(Routes.Group)];
        return PublishAsync(routes, routes, new Targets(TargetKind.Groups, groupNames), groupNames.SelectMany(_groups.Members).ToList(), groupNames, null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        string[] routes = [Routes.User(userId)];
        return PublishAsync(routes, routes, new Targets(TargetKind.Users, [userId]), _users.Members(userId), [], null, methodName, args, cancellationToken);
    }

    /// <inheritdoc />
    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        string[] routes = [.. userIds.Select(Routes.User)];
        return PublishAsync(routes, routes, new Targets(TargetKind.Users, userIds), userIds.SelectMany(_users.Members).ToList(), [], null, methodName, args, cancellationToken);
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
        return await SendToAsync(Routes.Connection(connectionId), BackplaneProtocol.WriteClose(_serverId, connectionId), cancellationToken) > 0;
    }

    /// <summary>Closes every connection on every server.</summary>
    internal async Task CloseAllAsync(CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken);
        await RunSendAsync([Routes.All], BackplaneProtocol.WriteCloseAll(_serverId), isEvent: false, [], token: null, skip: _serverId, cancellationToken);
        AbortAllLocal();
    }

    /// <summary>The groups a local connection is in, or null when this server does not own it.</summary>
    internal string[]? LocalGroupsOf(string connectionId) =>
        _connections.TryGetValue(connectionId, out var local) ? local.Groups : null;

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        if (_started)
        {
            _backplane.Multiplexer.ConnectionFailed -= OnConnectionFailed;
            // Leaving: nothing more should be sent to this inbox (a server that dies instead is swept by the others).
            await Quietly(async () =>
            {
                await _backplane.Database.SetRemoveAsync(_keys.Servers, _serverId);
                while ((long)await RouteScripts.Sweep.RunAsync(_backplane, [_keys.ServerRoutes(_serverId), _keys.InboxSequences], [_keys.Prefix, _serverId, 1000]) > 0)
                {
                }
                if (_inbox is { } inbox)
                {
                    await inbox.UnsubscribeAsync();
                }
            });
        }
        _startLock.Dispose();
        _delivered.Dispose();
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
        var receivers = await SendToAsync(Routes.Connection(connectionId), BackplaneProtocol.WriteGroup(_serverId, requestId, add, groupName, connectionId), cancellationToken);
        var owned = receivers > 0 && await _acks.WaitAsync(requestId, acked, _backplane.Options.AckTimeout, $"Group {verb} of connection '{connectionId}' for '{groupName}'", cancellationToken);
        if (!owned && add)
        {
            throw new InvalidOperationException($"Cannot {verb} connection '{connectionId}' to group '{groupName}': no server owns that connection.");
        }
    }

    private Task ChangeLocalGroupAsync(LocalConnection local, string group, bool add) => add
        ? JoinAsync(_groups, Routes.Group(group), group, local)
        : LeaveAsync(_groups, Routes.Group(group), group, local);

    private async Task JoinAsync(LocalGroups groups, string route, string name, LocalConnection local)
    {
        // While the inbox is not read a member would not get what is sent meanwhile, and nothing would back-fill it for a
        // new member: wait for the recovery (usually milliseconds), and refuse, as Redis is unreachable, if it takes long.
        await InboxReadAsync(name);
        using (await _routeLocks.LockAsync(route))
        {
            // The first local member adds this server to the route; that completes before the member is listed.
            if (groups.IsEmpty(name))
            {
                await ChangeRoutesAsync(add: true, [route], CancellationToken.None);
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
                await LeaveLockedAsync(groups, route, name, local);
            }
        }
    }

    private async Task LeaveAsync(LocalGroups groups, string route, string name, LocalConnection local)
    {
        using (await _routeLocks.LockAsync(route))
        {
            await LeaveLockedAsync(groups, route, name, local);
        }
    }

    /// <summary>Takes a local member out of a group; the last one takes this server off the route. Called under the route's lock.</summary>
    private async Task LeaveLockedAsync(LocalGroups groups, string route, string name, LocalConnection local)
    {
        if (groups == _groups)
        {
            local.Left(name);
        }
        if (groups.Remove(name, local))
        {
            await ChangeRoutesAsync(add: false, [route], CancellationToken.None);
        }
    }

    private async Task ChangeRoutesAsync(bool add, IReadOnlyList<string> routes, CancellationToken cancellationToken)
    {
        RedisValue[] args = [_keys.Prefix, _serverId, add ? "+" : "-", .. routes.Select(r => (RedisValue)r)];
        await RouteScripts.Change.RunAsync(_backplane, [_keys.ServerRoutes(_serverId)], args, cancellationToken);
    }

    /// <summary>Writes every route this server should have (after Redis lost data or a fail-over may have lost writes).</summary>
    private async Task RestoreRoutesAsync(CancellationToken cancellationToken)
    {
        IEnumerable<string> routes =
        [
            .. _connections.Keys.Select(Routes.Connection),
            .. _groups.Names.Select(Routes.Group),
            .. _users.Names.Select(Routes.User),
        ];
        foreach (var batch in routes.Chunk(500))
        {
            await ChangeRoutesAsync(add: true, batch, cancellationToken);
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
            // Listed before any connection is: SignalR's Clients.All and closing everything reach every listed server.
            await _backplane.Database.SetAddAsync(_keys.Servers, _serverId).WaitAsync(cancellationToken);
            // Read one message at a time, in the order Redis sent them: that order is every client's order.
            await StartInboxAsync(cancellationToken);
            _backplane.Multiplexer.ConnectionFailed += OnConnectionFailed;
            _backplane.InboxLive = true;
            Volatile.Write(ref _started, true);
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>Subscribes the inbox, waiting for the subscription connection if it is still coming up (the client fails fast).</summary>
    private async Task<ChannelMessageQueue> SubscribeInboxAsync(IConnectionMultiplexer multiplexer, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(Math.Max(_backplane.Options.Configuration.ConnectTimeout, 1000));
        while (true)
        {
            try
            {
                return await multiplexer.GetSubscriber().SubscribeAsync(_backplane.Inbox(_serverId)).WaitAsync(cancellationToken);
            }
            catch (Exception ex) when (RedisErrors.IsUnsent(ex) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken);
            }
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
        catch (Exception ex) when (RedisErrors.IsRedisFailure(ex) || ex is ObjectDisposedException)
        {
            // Redis is down (the routes are written again from what is live once it is back), or an app's multiplexer was
            // disposed before us at shutdown.
        }
    }
}

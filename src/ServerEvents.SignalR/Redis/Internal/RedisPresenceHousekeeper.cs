using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// Keeps cluster presence honest: refreshes this server's liveness key (TTL = 3 × housekeeping interval),
/// removes — with leave events — the subscriptions of servers whose key expired (a crash or kill -9),
/// and after Redis lost its data re-registers this server's live subscriptions with their current groups.
/// </summary>
internal sealed class RedisPresenceHousekeeper<THub>(
    RedisBackplane backplane,
    RedisSubscriptionStore store,
    HubLifetimeManager<THub> manager,
    SubscriptionLifecycle lifecycle,
    IOptions<ServerEventsOptions> options,
    ILogger<RedisPresenceHousekeeper<THub>> logger) : BackgroundService
    where THub : Hub
{
    private readonly RedisHubLifetimeManager<THub> _manager = (RedisHubLifetimeManager<THub>)manager;
    private readonly TimeSpan _interval = options.Value.HouseKeepingInterval;
    private readonly RedisKeys _keys = backplane.Keys;

    // 1 while this server's subscriptions may be missing from Redis (it restarted or forgot us).
    private int _restorePending;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail app start-up with a clear message when Redis is unreachable.
        await _manager.StartAsync(cancellationToken);
        backplane.Multiplexer.ConnectionRestored += OnConnectionRestored;
        await RefreshLivenessAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        backplane.Multiplexer.ConnectionRestored -= OnConnectionRestored;
        await base.StopAsync(cancellationToken);
    }

    /// <summary>One housekeeping pass; public for tests that do not want to wait for the timer.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await RefreshLivenessAsync(cancellationToken))
        {
            // Our liveness key was gone: Redis lost its data, or we were silent so long that we look dead (and were swept,
            // routes included). Either way what is sent may not reach us: the manager holds, routes again and back-fills.
            Volatile.Write(ref _restorePending, 1);
            _manager.OnRedisDataLost();
        }
        await RestoreIfPendingAsync(cancellationToken);
        await SweepDeadServersAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                HousekeepingFailed(ex);
            }
        }
    }

    /// <summary>Refreshes this server's liveness key; false when the key had already gone.</summary>
    private async Task<bool> RefreshLivenessAsync(CancellationToken cancellationToken)
    {
        var database = backplane.Database;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var previous = database.StringSetAndGetAsync(_keys.ServerAlive(backplane.ServerId), now, _interval * 3);
        await Task.WhenAll(previous, database.SetAddAsync(_keys.Servers, backplane.ServerId)).WaitAsync(cancellationToken);
        return !(await previous).IsNull;
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _ = Task.Run(RestoreAfterReconnectAsync);
        }
    }

    /// <summary>
    /// A pub/sub reconnect may mean a restarted Redis without our data: restore at once rather than at the
    /// next tick, retrying briefly while the command connection is still coming back.
    /// </summary>
    private async Task RestoreAfterReconnectAsync()
    {
        Volatile.Write(ref _restorePending, 1);
        var delay = TimeSpan.FromMilliseconds(50);
        for (var waited = TimeSpan.Zero; waited < _interval; waited += delay, delay *= 2)
        {
            try
            {
                await RefreshLivenessAsync(CancellationToken.None);
                await RestoreIfPendingAsync(CancellationToken.None);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                HousekeepingFailed(ex);
            }
            await Task.Delay(delay);
        }
        // Still failing: the next housekeeping tick tries again (the flag is still set).
    }

    /// <summary>
    /// Writes this server's live subscriptions back into Redis with their current groups, and raises the
    /// anonymous-user sequence past the restored ids so new users do not get the same "-N" again.
    /// </summary>
    private async Task RestoreIfPendingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _restorePending, 0) == 0)
        {
            return;
        }
        try
        {
            var restored = 0;
            long highestAnonymous = 0;
            foreach (var info in store.Owned)
            {
                if (_manager.LocalGroupsOf(info.SubscriptionId) is not { } groups)
                {
                    continue;
                }
                // The local SignalR groups are the truth: they also reflect changes other servers requested.
                var channels = groups.Where(g => !g.StartsWith('@')).ToHashSet(StringComparer.Ordinal);
                info.Channels = [.. info.Channels.Where(channels.Contains), .. channels.Except(info.Channels, StringComparer.Ordinal)];
                await store.RestoreAsync(info, cancellationToken);
                restored++;
                if (!info.IsAuthenticated && info.UserId.StartsWith('-') && long.TryParse(info.UserId.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    highestAnonymous = Math.Max(highestAnonymous, n);
                }
            }
            await store.RaiseSequenceAsync(SubscriptionFactory.AnonymousUserSequence, highestAnonymous, cancellationToken);
            RedisLog.Restored(logger, restored);
        }
        catch
        {
            Volatile.Write(ref _restorePending, 1);
            throw;
        }
    }

    private static bool IsRedisFailure(Exception ex) => RedisErrors.IsRedisFailure(ex);

    private async Task SweepDeadServersAsync(CancellationToken cancellationToken)
    {
        var database = backplane.Database;
        var servers = await database.SetMembersAsync(_keys.Servers).WaitAsync(cancellationToken);
        foreach (var server in servers.Select(s => (string)s!).Where(s => s != backplane.ServerId))
        {
            if (await database.KeyExistsAsync(_keys.ServerAlive(server)).WaitAsync(cancellationToken))
            {
                continue;
            }
            // Its routes first, so nothing more is sent to its inbox; a batch at a time, so no call holds Redis long. Each
            // batch checks that it is still dead: a server that was only silent (a partition) and is back keeps the rest.
            long left;
            while ((left = (long)await RouteScripts.Sweep.RunAsync(backplane, [_keys.ServerRoutes(server), _keys.InboxSequences, _keys.ServerAlive(server)],
                [_keys.Prefix, server, 1000], cancellationToken)) > 0)
            {
            }
            if (left < 0)
            {
                continue;
            }
            var ids = await database.SetMembersAsync(_keys.ServerSubscriptions(server)).WaitAsync(cancellationToken);
            var removed = 0;
            foreach (var id in ids.Select(i => (string)i!))
            {
                if (removed % 100 == 99 && await database.KeyExistsAsync(_keys.ServerAlive(server)).WaitAsync(cancellationToken))
                {
                    break;
                }
                // Several survivors may sweep at once; the store's atomic remove lets exactly one send the leave events.
                if (await lifecycle.UnRegisterAsync(id, cancellationToken) is not null)
                {
                    removed++;
                }
            }
            if (await database.KeyExistsAsync(_keys.ServerAlive(server)).WaitAsync(cancellationToken))
            {
                continue;
            }
            await database.KeyDeleteAsync(_keys.ServerSubscriptions(server)).WaitAsync(cancellationToken);
            await database.SetRemoveAsync(_keys.Servers, server).WaitAsync(cancellationToken);
            RedisLog.SweptDeadServer(logger, server, removed);
        }
    }

    private void HousekeepingFailed(Exception ex) => RedisLog.HousekeepingFailed(logger, ex.Message);
}

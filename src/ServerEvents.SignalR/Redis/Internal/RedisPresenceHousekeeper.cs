using System.Globalization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Resp;

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

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail app start-up with a clear message when Redis is unreachable.
        await backplane.EnsureConnectedAsync(cancellationToken);
        backplane.Subscriber.Reconnected += RestoreAsync;
        await RefreshLivenessAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        backplane.Subscriber.Reconnected -= RestoreAsync;
        await base.StopAsync(cancellationToken);
    }

    /// <summary>One housekeeping pass; public for tests that do not want to wait for the timer.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await RefreshLivenessAsync(cancellationToken);
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
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
            {
                HousekeepingFailed(ex);
            }
        }
    }

    private async Task RefreshLivenessAsync(CancellationToken cancellationToken)
    {
        var ttl = (long)(_interval.TotalMilliseconds * 3);
        var commands = backplane.Commands;
        await Task.WhenAll(
            commands.ExecuteAsync(RespCommand.Create("SET", _keys.ServerAlive(backplane.ServerId), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), "PX", ttl), cancellationToken),
            commands.ExecuteAsync(RespCommand.Create("SADD", _keys.Servers, backplane.ServerId), cancellationToken));
    }

    private async Task SweepDeadServersAsync(CancellationToken cancellationToken)
    {
        var commands = backplane.Commands;
        var servers = (await commands.ExecuteAsync(RespCommand.Create("SMEMBERS", _keys.Servers), cancellationToken)).Items;
        foreach (var server in servers.Select(s => s.AsString()!).Where(s => s != backplane.ServerId))
        {
            if ((await commands.ExecuteAsync(RespCommand.Create("EXISTS", _keys.ServerAlive(server)), cancellationToken)).Integer == 1)
            {
                continue;
            }
            var ids = (await commands.ExecuteAsync(RespCommand.Create("SMEMBERS", _keys.ServerSubscriptions(server)), cancellationToken)).Items;
            var removed = 0;
            foreach (var id in ids.Select(i => i.AsString()!))
            {
                // Several survivors may sweep at once; the store's atomic remove lets exactly one send the leave events.
                if (await lifecycle.UnRegisterAsync(id, cancellationToken) is not null)
                {
                    removed++;
                }
            }
            await commands.ExecuteAsync(RespCommand.Create("DEL", _keys.ServerSubscriptions(server)), cancellationToken);
            await commands.ExecuteAsync(RespCommand.Create("SREM", _keys.Servers, server), cancellationToken);
            RedisLog.SweptDeadServer(logger, server, removed);
        }
    }

    private async Task RestoreAsync()
    {
        try
        {
            await RefreshLivenessAsync(CancellationToken.None);
            var restored = 0;
            foreach (var info in store.Owned)
            {
                if (_manager.LocalGroupsOf(info.SubscriptionId) is not { } groups)
                {
                    continue;
                }
                // The local SignalR groups are the truth: they also reflect changes other servers requested.
                var channels = groups.Where(g => !g.StartsWith('@')).ToHashSet(StringComparer.Ordinal);
                info.Channels = [.. info.Channels.Where(channels.Contains), .. channels.Except(info.Channels, StringComparer.Ordinal)];
                await store.RestoreAsync(info, CancellationToken.None);
                restored++;
            }
            RedisLog.Restored(logger, restored);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
        {
            HousekeepingFailed(ex);
        }
    }

    private void HousekeepingFailed(Exception ex) => RedisLog.HousekeepingFailed(logger, ex.Message);
}

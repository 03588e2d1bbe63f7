using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// This server's open SSE streams. SSE clients prove they are alive only by heartbeats, so a stream whose
/// last heartbeat reply is older than the idle timeout is closed here — SignalR then runs the disconnect,
/// with leave events, exactly as for a hub client that went away.
/// </summary>
internal sealed class SseConnections(IOptions<ServerEventsOptions> options, TimeProvider time) : BackgroundService
{
    private readonly ConcurrentDictionary<string, SseConnection> _open = new(StringComparer.Ordinal);
    private readonly ServerEventsOptions _options = options.Value;

    public int Count => _open.Count;

    public void Add(SseConnection connection) => _open[connection.ConnectionId] = connection;

    public void Remove(SseConnection connection) => _open.TryRemove(connection.ConnectionId, out _);

    /// <summary>Closes the streams that missed their heartbeats; public for tests that do not want to wait.</summary>
    public int CloseIdle()
    {
        var cutoff = time.GetUtcNow() - _options.IdleTimeout;
        var closed = 0;
        foreach (var connection in _open.Values)
        {
            if (connection.LastPulse < cutoff)
            {
                connection.Close("no heartbeat within the idle timeout");
                closed++;
            }
        }
        return closed;
    }

    /// <summary>Ends every stream (the server is stopping): SSE responses never end by themselves.</summary>
    public void CloseAll(string reason)
    {
        foreach (var connection in _open.Values)
        {
            connection.Close(reason);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        CloseAll("the server is stopping");
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Check often enough that a stream never outlives its idle timeout by more than a fraction of it.
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, Math.Min(_options.HouseKeepingInterval.Ticks, _options.IdleTimeout.Ticks / 4)));
        using var timer = new PeriodicTimer(period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            CloseIdle();
        }
    }
}

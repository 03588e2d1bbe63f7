using System.Text.Json;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>One event a chaos subscriber received, on whichever of its connections.</summary>
internal sealed record ChaosEvent(long EventId, string Selector, string Json)
{
    /// <summary>The payload of a message (a JSON string).</summary>
    public string Message => JsonSerializer.Deserialize<string>(Json)!;

    public Dictionary<string, string> Meta => JsonSerializer.Deserialize<Dictionary<string, string>>(Json)!;
}

/// <summary>
/// A subscriber to "home" that behaves like a real client under chaos: a hub or an SSE connection at a time, and
/// when one ends it comes back — to any server — with the id of the last event it received, as
/// <c>@microsoft/signalr</c> plus a few lines, or <c>EventSource</c> with <c>Last-Event-ID</c>, do.
/// Every event of every connection it had is kept, in arrival order.
/// </summary>
internal sealed class ChaosSubscriber(string name, bool sse, TestCluster cluster) : IAsyncDisposable
{
    private static readonly TimeSpan ConnectWithin = TimeSpan.FromSeconds(3);
    private readonly List<ChaosEvent> _earlier = [];
    private TestClient? _hub;
    private SseTestClient? _stream;
    private bool _connectedOnce;

    public string Name { get; } = name;

    public bool Sse { get; } = sse;

    public IReadOnlyList<ChaosEvent> Events => [.. _earlier, .. Current()];

    private bool Closed => _hub?.Closed.IsCompleted ?? _stream?.Ended.IsCompleted ?? true;

    /// <summary>Connects to <paramref name="server"/> (resuming after the last event, from the second time on).</summary>
    public async Task ConnectAsync(int server)
    {
        long? last = _connectedOnce ? Events.LastOrDefault(e => e.EventId > 0)?.EventId : null;
        var query = "channels=home" + (last is null || Sse ? "" : "&lastEventId=" + last);
        if (Sse)
        {
            var stream = await SseTestClient.OpenAsync(cluster[server].BaseUri, query, lastEventId: last);
            if (!await Within(() => stream.Frames.Any(f => f.Selector == "cmd.onConnect") || stream.Ended.IsCompleted) || stream.Ended.IsCompleted)
            {
                await stream.DisposeAsync();
                throw new InvalidOperationException($"{Name}: no stream from server {server}");
            }
            // The first time, publishing starts right after: be in the channel first (a resume needs not, it replays).
            if (!_connectedOnce)
            {
                var userId = stream.Frames.First(f => f.Selector == "cmd.onConnect").Meta["userId"];
                if (!await Within(() => stream.Frames.Any(f => f.Selector == "cmd.onJoin" && f.Meta["userId"] == userId)))
                {
                    await stream.DisposeAsync();
                    throw new InvalidOperationException($"{Name}: not in the channel on server {server}");
                }
            }
            _stream = stream;
        }
        else
        {
            var hub = await TestClient.StartOnlyAsync(cluster.HubUrl(server, query));
            if (!await Within(() => hub.Events.Any(e => e.Selector == "cmd.onConnect") || hub.Closed.IsCompleted) || hub.Closed.IsCompleted)
            {
                await hub.DisposeAsync();
                throw new InvalidOperationException($"{Name}: no hub connection on server {server}");
            }
            if (!_connectedOnce)
            {
                var userId = hub.Events.First(e => e.Selector == "cmd.onConnect").Meta["userId"];
                if (!await Within(() => hub.Events.Any(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == userId)))
                {
                    await hub.DisposeAsync();
                    throw new InvalidOperationException($"{Name}: not in the channel on server {server}");
                }
            }
            _hub = hub;
        }
        _connectedOnce = true;
    }

    /// <summary>Connects again, trying the servers in turn while they refuse (Redis down).</summary>
    public async Task ReconnectAsync(int server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ConnectAsync((server + attempt) % cluster.Count);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Ends the current connection abruptly, keeping what it received.</summary>
    public async Task DropAsync()
    {
        // Closed first, then read: nothing arrives between the two.
        if (_hub is { } hub)
        {
            await hub.DisposeAsync();
        }
        if (_stream is { } stream)
        {
            await stream.DisposeAsync();
        }
        _earlier.AddRange(Current());
        _hub = null;
        _stream = null;
    }

    /// <summary>Waits for <c>cmd.end</c>, reconnecting if the connection ended meanwhile.</summary>
    public async Task WaitForEndAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!Current().Any(e => e.Selector == "cmd.end"))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} ({(Sse ? "SSE" : "hub")}) never got cmd.end; last events: " +
                    string.Join(" | ", Events.TakeLast(5).Select(e => $"{e.EventId} {e.Selector} {e.Json}")));
            }
            if (Closed)
            {
                await DropAsync();
                await ReconnectAsync(0);
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await DropAsync();

    private IEnumerable<ChaosEvent> Current() =>
        _hub?.Events.Select(e => new ChaosEvent(e.EventId, e.Selector, e.Json))
        ?? _stream?.Frames.Select(f => new ChaosEvent(f.Id ?? 0, f.Selector, f.Json))
        ?? [];

    private static async Task<bool> Within(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + ConnectWithin;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }
}

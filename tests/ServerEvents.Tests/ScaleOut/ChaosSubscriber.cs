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
            await EnsureReadyAsync(server, stream, () => [.. stream.Frames.Select(f => (f.Selector, f.Json))], () => stream.Ended.IsCompleted);
            _stream = stream;
        }
        else
        {
            var hub = await TestClient.StartOnlyAsync(cluster.HubUrl(server, query));
            await EnsureReadyAsync(server, hub, () => [.. hub.Events.Select(e => (e.Selector, e.Json))], () => hub.Closed.IsCompleted);
            _hub = hub;
        }
        _connectedOnce = true;
    }

    /// <summary>
    /// Waits for <c>cmd.onConnect</c> and, the first time, for its own <c>cmd.onJoin</c> too (publishing starts right
    /// after, and only a resume replays); closes the client and throws when either does not come.
    /// </summary>
    private async Task EnsureReadyAsync(int server, IAsyncDisposable client, Func<IReadOnlyList<(string Selector, string Json)>> received, Func<bool> closed)
    {
        static string? UserIdIn(string json) => JsonDocument.Parse(json).RootElement.GetProperty("userId").GetString();

        var what = Sse ? "stream" : "hub connection";
        if (!await Within(() => received().Any(e => e.Selector == "cmd.onConnect") || closed()) || closed())
        {
            await client.DisposeAsync();
            throw new InvalidOperationException($"{Name}: no {what} from server {server}");
        }
        var userId = UserIdIn(received().First(e => e.Selector == "cmd.onConnect").Json);
        if (!_connectedOnce && !await Within(() => received().Any(e => e.Selector == "cmd.onJoin" && UserIdIn(e.Json) == userId)))
        {
            await client.DisposeAsync();
            throw new InvalidOperationException($"{Name}: {what} not in the channel on server {server}");
        }
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

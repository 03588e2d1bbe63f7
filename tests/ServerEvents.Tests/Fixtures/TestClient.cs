using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ServerEvents.Tests.Fixtures;

/// <summary>An event as a hub client receives it (deserialized independently of the server's type).</summary>
public sealed record ReceivedEvent(long EventId, string? Channel, string Selector, string Json, JsonElement Raw)
{
    /// <summary>Reads the envelope by its exact wire names, so a renamed property fails every test.</summary>
    public static ReceivedEvent FromWire(JsonElement e) => new(
        e.GetProperty("eventId").GetInt64(),
        e.GetProperty("channel").GetString(),
        e.GetProperty("selector").GetString()!,
        e.GetProperty("json").GetString()!,
        e.Clone());

    public Dictionary<string, string> Meta => JsonSerializer.Deserialize<Dictionary<string, string>>(Json)!;

    public JsonElement Body => JsonDocument.Parse(Json).RootElement;
}

/// <summary>The official SignalR .NET client connected to a Server Events hub, recording every event.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly List<ReceivedEvent> _events = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private const HttpTransportType DefaultTransports = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;

    private TestClient(HubConnection connection, bool messagePack)
    {
        Connection = connection;
        if (messagePack)
        {
            // MessagePack maps arrive as dictionaries; read through JSON so the envelope is checked by the same wire names.
            connection.On<Dictionary<string, object?>>("event", e => Record(ReceivedEvent.FromWire(JsonSerializer.SerializeToElement(e))));
        }
        else
        {
            connection.On<JsonElement>("event", e => Record(ReceivedEvent.FromWire(e)));
        }
        connection.Closed += ex =>
        {
            _closed.TrySetResult(ex);
            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    /// <summary>The <c>cmd.onConnect</c> payload.</summary>
    public Dictionary<string, string> ConnectInfo { get; private set; } = [];

    public string Id => ConnectInfo["id"];

    public string UserId => ConnectInfo["userId"];

    public string DisplayName => ConnectInfo["displayName"];

    /// <summary>Completes with the close error when the server ends the connection.</summary>
    public Task<Exception?> Closed => _closed.Task;

    public IReadOnlyList<ReceivedEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Starts the connection and waits for <c>cmd.onConnect</c> and its joins.</summary>
    /// <remarks>
    /// The client is subscribed everywhere once it has <c>cmd.onConnect</c> (the readiness tests rely on that alone);
    /// by default this also waits for its own <c>cmd.onJoin</c> in every channel, so that tests find the join
    /// announcements in the events they read. Pass <paramref name="awaitJoins"/> false to return at onConnect (and
    /// where lifecycle events are switched off).
    /// </remarks>
    public static async Task<TestClient> ConnectAsync(Uri hubUrl, string? user = null, bool awaitJoins = true, HttpTransportType transports = DefaultTransports, bool messagePack = false, string? session = null, string? cookie = null)
    {
        var client = Create(hubUrl, user, transports, messagePack, session, cookie);
        await client.Connection.StartAsync().DefaultTimeout();
        var connect = await client.WaitForAsync(e => e.Selector == "cmd.onConnect");
        client.ConnectInfo = connect.Meta;
        try
        {
            if (awaitJoins)
            {
                foreach (var channel in client.ConnectInfo["channels"].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    await client.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Channel == channel && e.Meta["userId"] == client.UserId);
                }
            }
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
        return client;
    }

    /// <summary>Starts the connection without waiting for <c>cmd.onConnect</c> (for tests that race the handshake).</summary>
    public static async Task<TestClient> StartOnlyAsync(Uri hubUrl, string? user = null)
    {
        var client = Create(hubUrl, user);
        await client.Connection.StartAsync().DefaultTimeout();
        return client;
    }

    /// <summary>Starts a connection the server is expected to refuse; returns the close error message.</summary>
    public static async Task<string> ConnectRefusedAsync(Uri hubUrl, string? user = null)
    {
        await using var client = Create(hubUrl, user);
        try
        {
            await client.Connection.StartAsync().DefaultTimeout();
        }
        catch (Exception refused) when (refused is not TimeoutException)
        {
            // Refused at the handshake, with the reason (hubs mapped with MapServerEvents).
            return refused.Message;
        }
        var error = await client.Closed.DefaultTimeout();
        Assert.DoesNotContain(client.Events, e => e.Selector == "cmd.onConnect");
        return error?.Message ?? "(closed without error)";
    }

    /// <summary>The first event so far or from now on that matches, within <paramref name="within"/> (default: the test timeout).</summary>
    public async Task<ReceivedEvent> WaitForAsync(Func<ReceivedEvent, bool> match, TimeSpan? within = null)
    {
        var limit = within ?? TaskExtensions.Default;
        using var timeout = new CancellationTokenSource(limit);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var found = _events.FirstOrDefault(match);
                if (found is not null)
                {
                    return found;
                }
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // The last events, each cut short: large payloads would otherwise bury the server warnings.
                var events = Events;
                var received = events.TakeLast(50).Select(e => $"{e.EventId} {e.Channel}@{e.Selector} {(e.Json.Length > 200 ? e.Json[..200] + "…" : e.Json)}");
                throw new TimeoutException($"No matching event within {limit}. Received {events.Count}, the last {Math.Min(50, events.Count)}: {string.Join(" | ", received)}. Server warnings: {FailureLog.Recent()}");
            }
        }
    }

    public Task<ReceivedEvent> WaitForAsync(string selector, string? channel = null) =>
        WaitForAsync(e => e.Selector == selector && (channel is null || e.Channel == channel));

    /// <summary>
    /// Sends this client a unique marker and waits for it. Delivery to one connection is ordered, so
    /// afterwards every event sent to it before the barrier has arrived: negative checks need no sleep.
    /// </summary>
    public Task<IReadOnlyList<ReceivedEvent>> BarrierAsync(IServerEvents serverEvents) =>
        BarrierAsync(marker => serverEvents.NotifySubscriptionJsonAsync(Id, "cmd.barrier", JsonSerializer.Serialize(marker)));

    /// <summary>The same, with the caller sending <c>cmd.barrier</c> carrying the marker string to this client (e.g. over HTTP).</summary>
    public async Task<IReadOnlyList<ReceivedEvent>> BarrierAsync(Func<string, Task> sendMarker)
    {
        var marker = Guid.NewGuid().ToString("N");
        await sendMarker(marker).DefaultTimeout();
        var barrier = await WaitForAsync(e => e.Selector == "cmd.barrier" && e.Json.Contains(marker, StringComparison.Ordinal));
        lock (_gate)
        {
            return [.. _events.TakeWhile(e => e != barrier).Where(e => e.Selector != "cmd.barrier")];
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Bounded: a client that cannot close fails its test with a reason instead of hanging the run.
        try
        {
            await Connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The hub client {(ConnectInfo.TryGetValue("id", out var id) ? id : "(not connected)")} did not close within 20 s.");
        }
    }

    /// <summary>The full official client: negotiate, then the first transport the server and <paramref name="transports"/> allow.</summary>
    private static TestClient Create(Uri hubUrl, string? user, HttpTransportType transports = DefaultTransports, bool messagePack = false, string? session = null, string? cookie = null)
    {
        var builder = new HubConnectionBuilder().WithUrl(hubUrl, options =>
        {
            options.Transports = transports;
            if (user is not null)
            {
                options.Headers[TestAuthHandler.Header] = user;
            }
            if (session is not null)
            {
                // ServiceStack's session header; the query string carries one only where the app allows it.
                options.Headers["X-ss-id"] = session;
            }
            foreach (var pair in (cookie ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                options.Cookies.Add(hubUrl, new System.Net.Cookie(name, value));
            }
        });
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }
        return new TestClient(builder.Build(), messagePack);
    }

    private void Record(ReceivedEvent received)
    {
        lock (_gate)
        {
            _events.Add(received);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.SetResult();
        }
    }
}

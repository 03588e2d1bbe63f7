using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ServerEvents.Tests.Fixtures;

/// <summary>One SSE frame as a client parses it: <c>id:</c>, and the <c>data:</c> line split ServiceStack's way.</summary>
public sealed record SseFrame(long? Id, string? Channel, string Selector, string Json)
{
    public Dictionary<string, string> Meta => JsonSerializer.Deserialize<Dictionary<string, string>>(Json)!;
}

/// <summary>
/// A minimal, strict SSE client over HttpClient: it records the raw bytes (for wire-format assertions)
/// and parses frames exactly as the spec and ServiceStack's clients do (LF lines, blank line dispatches).
/// </summary>
public sealed class SseTestClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly List<SseFrame> _frames = [];
    private readonly StringBuilder _raw = new();
    private readonly object _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _fault;

    private SseTestClient(HttpClient http, HttpResponseMessage response)
    {
        _http = http;
        Response = response;
    }

    public HttpResponseMessage Response { get; }

    public HttpClient Http => _http;

    public Dictionary<string, string> ConnectInfo { get; private set; } = [];

    public string Id => ConnectInfo["id"];

    public string UserId => ConnectInfo["userId"];

    /// <summary>Completes when the server ends the stream.</summary>
    public Task Ended => _ended.Task;

    public string Raw
    {
        get
        {
            lock (_gate)
            {
                return _raw.ToString();
            }
        }
    }

    public IReadOnlyList<SseFrame> Frames
    {
        get
        {
            lock (_gate)
            {
                return [.. _frames];
            }
        }
    }

    /// <summary>Opens <c>/event-stream?{query}</c> and waits for <c>cmd.onConnect</c> and its joins.</summary>
    /// <remarks>
    /// The client is subscribed everywhere once it has <c>cmd.onConnect</c> (the readiness tests rely on that alone);
    /// by default this also waits for its own <c>cmd.onJoin</c> in every channel, so that tests find the join
    /// announcements in the events they read. Pass <paramref name="awaitJoins"/> false to return at onConnect (and
    /// where lifecycle events are switched off).
    /// </remarks>
    public static async Task<SseTestClient> ConnectAsync(Uri server, string query = "channels=home", string? user = null, string? forwardedFor = null, long? lastEventId = null, bool awaitJoins = true)
    {
        var client = await OpenAsync(server, query, user, forwardedFor, lastEventId);
        if (client.Response.StatusCode != HttpStatusCode.OK)
        {
            var body = await client.Response.Content.ReadAsStringAsync();
            await client.DisposeAsync();
            throw new InvalidOperationException($"Stream refused: {(int)client.Response.StatusCode} {body}");
        }
        var connect = await client.WaitForAsync(f => f.Selector == "cmd.onConnect");
        client.ConnectInfo = connect.Meta;
        try
        {
            if (awaitJoins)
            {
                foreach (var channel in client.ConnectInfo["channels"].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    await client.WaitForAsync(f => f.Selector == "cmd.onJoin" && f.Channel == channel && f.Meta["userId"] == client.UserId);
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

    /// <summary>Opens the stream and returns as soon as the response headers arrive, whatever the status.</summary>
    /// <param name="lastEventId">Sent as <c>Last-Event-ID</c>, as EventSource does when it reconnects.</param>
    public static async Task<SseTestClient> OpenAsync(Uri server, string query = "channels=home", string? user = null, string? forwardedFor = null, long? lastEventId = null)
    {
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        if (user is not null)
        {
            http.DefaultRequestHeaders.Add(TestAuthHandler.Header, user);
        }
        if (forwardedFor is not null)
        {
            http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        }
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server, "event-stream?" + query));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var client = new SseTestClient(http, response);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            _ = client.ReadAsync();
        }
        else
        {
            client._ended.TrySetResult();
        }
        return client;
    }

    public async Task<SseFrame> WaitForAsync(Func<SseFrame, bool> match)
    {
        using var timeout = new CancellationTokenSource(TaskExtensions.Default);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_frames.FirstOrDefault(match) is { } found)
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
                // The tail of what came: large frames would otherwise bury the server warnings in megabytes.
                var raw = Raw;
                var tail = raw.Length > 4000 ? "…" + raw[^4000..] : raw;
                throw new TimeoutException($"No matching SSE frame within {TaskExtensions.Default} (stream ended: {_ended.Task.IsCompleted}, {_fault ?? "no error"}). "
                    + $"Received {Frames.Count} frames ({raw.Length} characters), ending:\n{tail}\nServer warnings: {FailureLog.Recent()}");
            }
        }
    }

    public Task<SseFrame> WaitForAsync(string selector, string? channel = null) =>
        WaitForAsync(f => f.Selector == selector && (channel is null || f.Channel == channel));

    /// <summary>Sends a unique marker to this subscription and waits for it: every earlier frame has arrived.</summary>
    public async Task<IReadOnlyList<SseFrame>> BarrierAsync(IServerEvents serverEvents)
    {
        var marker = Guid.NewGuid().ToString("N");
        await serverEvents.NotifySubscriptionJsonAsync(Id, "cmd.barrier", JsonSerializer.Serialize(marker)).DefaultTimeout();
        var barrier = await WaitForAsync(f => f.Selector == "cmd.barrier" && f.Json.Contains(marker, StringComparison.Ordinal));
        lock (_gate)
        {
            return [.. _frames.TakeWhile(f => f != barrier).Where(f => f.Selector != "cmd.barrier")];
        }
    }

    /// <summary>POSTs the heartbeat URL from onConnect, as the clients do.</summary>
    public Task<HttpResponseMessage> HeartbeatAsync() =>
        _http.PostAsync(ConnectInfo["heartbeatUrl"], new StringContent("", Encoding.UTF8, "text/plain")).DefaultTimeout();

    public Task<HttpResponseMessage> UnRegisterAsync() =>
        _http.PostAsync(ConnectInfo["unRegisterUrl"], null).DefaultTimeout();

    public async ValueTask DisposeAsync()
    {
        // Tests may end a stream early and still hold it in an await using.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        Response.Dispose();
        _http.Dispose();
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var stream = await Response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[4096];
            var pending = new StringBuilder();
            long? id = null;
            string? data = null;
            int read;
            while ((read = await reader.ReadAsync(buffer, _stop.Token)) > 0)
            {
                lock (_gate)
                {
                    _raw.Append(buffer, 0, read);
                }
                pending.Append(buffer, 0, read);
                int newline;
                while ((newline = pending.ToString().IndexOf('\n', StringComparison.Ordinal)) >= 0)
                {
                    var line = pending.ToString(0, newline);
                    pending.Remove(0, newline + 1);
                    if (line.Length == 0)
                    {
                        if (data is not null)
                        {
                            Dispatch(id, data);
                        }
                        id = null;
                        data = null;
                    }
                    else if (line.StartsWith("id: ", StringComparison.Ordinal))
                    {
                        id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    {
                        data = data is null ? line[6..] : data + "\n" + line[6..];
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
        {
            // Stopped or cut off: either way the stream has ended.
            _fault = ex.GetType().Name + ": " + ex.Message;
        }
        catch (Exception ex)
        {
            // A stream this client cannot parse is a failure worth seeing in the test output.
            _fault = "UNPARSEABLE STREAM: " + ex;
        }
        finally
        {
            _ended.TrySetResult();
            Signal();
        }
    }

    private void Dispatch(long? id, string data)
    {
        var space = data.IndexOf(' ', StringComparison.Ordinal);
        var head = space < 0 ? data : data[..space];
        var json = space < 0 ? "" : data[(space + 1)..];
        var at = head.IndexOf('@', StringComparison.Ordinal);
        var frame = new SseFrame(id, at < 0 ? null : head[..at], at < 0 ? head : head[(at + 1)..], json);
        lock (_gate)
        {
            _frames.Add(frame);
        }
        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}

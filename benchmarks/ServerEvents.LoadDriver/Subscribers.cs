using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.LoadDriver;

/// <summary>What one subscriber saw of the benchmark stream: counts, order, duplicates and latencies.</summary>
public sealed class Tally(int expected)
{
    private readonly bool[] _seen = new bool[expected + 1];
    private readonly List<double> _latenciesMs = new(expected);
    private int _last;

    public int Received { get; private set; }

    public int Duplicates { get; private set; }

    public int OutOfOrder { get; private set; }

    public IReadOnlyList<double> LatenciesMs => _latenciesMs;

    public bool Complete => Received - Duplicates >= expected;

    /// <summary>Records one message body <c>{"seq":N,"ts":ticks,…}</c>.</summary>
    public void Record(ReadOnlySpan<char> json)
    {
        var now = DateTime.UtcNow.Ticks;
        using var document = JsonDocument.Parse(json.ToString());
        var seq = document.RootElement.GetProperty("seq").GetInt32();
        var ts = document.RootElement.GetProperty("ts").GetInt64();
        lock (_latenciesMs)
        {
            Received++;
            if (seq <= 0 || seq >= _seen.Length || _seen[seq])
            {
                Duplicates++;
                return;
            }
            _seen[seq] = true;
            if (seq < _last)
            {
                OutOfOrder++;
            }
            _last = Math.Max(_last, seq);
            _latenciesMs.Add((now - ts) / (double)TimeSpan.TicksPerMillisecond);
        }
    }
}

/// <summary>A connected benchmark subscriber of either transport.</summary>
public interface IBenchSubscriber : IAsyncDisposable
{
    Tally Tally { get; }
}

/// <summary>A SignalR hub client over WebSockets (the official HubConnection).</summary>
public sealed class HubSubscriber : IBenchSubscriber
{
    private readonly HubConnection _connection;

    private HubSubscriber(HubConnection connection, Tally tally)
    {
        _connection = connection;
        Tally = tally;
    }

    public Tally Tally { get; }

    public static async Task<HubSubscriber> ConnectAsync(Uri server, string channel, int expected)
    {
        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton<IConnectionFactory>(new WebSocketConnectionFactory());
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(new Uri(server, $"/hub?channels={channel}")));
        var subscriber = new HubSubscriber(builder.Build(), new Tally(expected));
        subscriber._connection.On<JsonElement>("event", e =>
        {
            if (e.GetProperty("selector").GetString() == "cmd.bench")
            {
                subscriber.Tally.Record(e.GetProperty("json").GetString());
            }
        });
        await subscriber._connection.StartAsync();
        return subscriber;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

/// <summary>An SSE subscriber reading the bridge's text/event-stream, as EventSource does.</summary>
public sealed class SseSubscriber : IBenchSubscriber
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private SseSubscriber(Stream stream, Tally tally)
    {
        Tally = tally;
        _reading = ReadAsync(stream);
    }

    public Tally Tally { get; }

    public static async Task<SseSubscriber> ConnectAsync(Uri server, string channel, int expected)
    {
        var response = await Http.GetAsync(new Uri(server, $"/event-stream?channels={channel}"), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new SseSubscriber(await response.Content.ReadAsStreamAsync(), new Tally(expected));
    }

    private async Task ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream);
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                // data: home@cmd.bench {"seq":…}
                var at = line.IndexOf("@cmd.bench ", StringComparison.Ordinal);
                if (line.StartsWith("data: ", StringComparison.Ordinal) && at > 0)
                {
                    Tally.Record(line.AsSpan(at + "@cmd.bench ".Length));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // Stopped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}

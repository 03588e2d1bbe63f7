using System.Net.WebSockets;

namespace ServerEvents.LoadDriver;

/// <summary>
/// A benchmark subscriber: one connection whose incoming bytes are cut into frames at a delimiter and shown
/// to its <see cref="Tally"/>. Both transports are read at the byte level, so the driver's own cost per message
/// stays small next to the servers' (an official client parsing every message as JSON saturated these cores first).
/// </summary>
public abstract class BenchSubscriber : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;

    protected BenchSubscriber(Tally tally) => Tally = tally;

    public Tally Tally { get; }

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Keeps an idle connection alive (the server closes a silent hub client after 30 s).</summary>
    public virtual Task PingAsync() => Task.CompletedTask;

    /// <summary>Reads into <paramref name="buffer"/>; 0 when the server ended the stream.</summary>
    protected virtual ValueTask<int> ReceiveAsync(Memory<byte> buffer) => throw new NotSupportedException();

    protected void StartReading(byte delimiter) => StartLoop(() => ReadAsync(delimiter));

    /// <summary>Runs <paramref name="loop"/> as the read loop; a connection error ends it and is noted in the tally.</summary>
    protected void StartLoop(Func<Task> loop) => _reading = Task.Run(async () =>
    {
        try
        {
            await loop();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or WebSocketException or HttpRequestException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Tally.Closed ??= ex.Message;
            }
        }
    });

    private async Task ReadAsync(byte delimiter)
    {
        var buffer = new byte[4096];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var read = await ReceiveAsync(buffer.AsMemory(filled));
            if (read == 0)
            {
                Tally.Closed ??= "the server ended the stream";
                return;
            }
            filled += read;
            var consumed = Frames(buffer.AsSpan(0, filled), delimiter);
            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
        }
    }

    private int Frames(ReadOnlySpan<byte> data, byte delimiter)
    {
        var consumed = 0;
        while (data[consumed..].IndexOf(delimiter) is var end and >= 0)
        {
            Tally.Observe(data.Slice(consumed, end));
            consumed += end + 1;
        }
        return consumed;
    }

    protected virtual ValueTask CloseAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await CloseAsync();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A SignalR hub client speaking the JSON hub protocol over a raw WebSocket (no negotiate, as the official
/// clients do with skipNegotiation): handshake, then records ending in 0x1E; pings keep it alive.
/// </summary>
public sealed class HubSubscriber : BenchSubscriber
{
    private const byte RecordSeparator = 0x1E;
    private static readonly byte[] Handshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] Ping = "{\"type\":6}\u001e"u8.ToArray();
    private readonly ClientWebSocket _socket;

    private HubSubscriber(ClientWebSocket socket, Tally tally) : base(tally) => _socket = socket;

    public static async Task<BenchSubscriber> ConnectAsync(Uri hub, string query, Tally tally, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(hub) { Scheme = "ws", Query = query }.Uri;
        await socket.ConnectAsync(uri, cancellationToken);
        await socket.SendAsync(Handshake, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var subscriber = new HubSubscriber(socket, tally);
        subscriber.StartReading(RecordSeparator);
        return subscriber;
    }

    public override Task PingAsync() =>
        _socket.State == WebSocketState.Open ? _socket.SendAsync(Ping, WebSocketMessageType.Text, true, Stopping) : Task.CompletedTask;

    protected override async ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        var result = await _socket.ReceiveAsync(buffer, Stopping);
        return result.MessageType == WebSocketMessageType.Close ? 0 : result.Count;
    }

    protected override ValueTask CloseAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>An SSE subscriber reading the bridge's text/event-stream line by line, as EventSource does.</summary>
public sealed class SseSubscriber : BenchSubscriber
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;

    private SseSubscriber(HttpResponseMessage response, Stream stream, Tally tally) : base(tally)
    {
        _response = response;
        _stream = stream;
    }

    public static async Task<BenchSubscriber> ConnectAsync(Uri server, string query, Tally tally, CancellationToken cancellationToken)
    {
        var response = await Http.GetAsync(new Uri(server, "/event-stream?" + query), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        var subscriber = new SseSubscriber(response, await response.Content.ReadAsStreamAsync(cancellationToken), tally);
        subscriber.StartReading((byte)'\n');
        return subscriber;
    }

    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => _stream.ReadAsync(buffer, Stopping);

    protected override async ValueTask CloseAsync()
    {
        await _stream.DisposeAsync();
        _response.Dispose();
    }
}

/// <summary>
/// A Socket.IO 4 client over a raw WebSocket (Engine.IO protocol 4, no polling upgrade): the open packet, a connect to
/// the default namespace, then one packet per WebSocket message — events (<c>42[…]</c>) go to the tally, the server's
/// pings (<c>2</c>) are answered with pongs (<c>3</c>), as socket.io-client does.
/// </summary>
public sealed class SocketIoSubscriber : BenchSubscriber
{
    private static readonly byte[] ConnectDefaultNamespace = "40"u8.ToArray();
    private static readonly byte[] Pong = "3"u8.ToArray();
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sending = new(1, 1);

    private SocketIoSubscriber(ClientWebSocket socket, Tally tally) : base(tally) => _socket = socket;

    public static async Task<BenchSubscriber> ConnectAsync(Uri server, string query, Tally tally, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var uri = new UriBuilder(server) { Scheme = "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket&" + query }.Uri;
        await socket.ConnectAsync(uri, cancellationToken);
        var subscriber = new SocketIoSubscriber(socket, tally);
        await subscriber.SendAsync(ConnectDefaultNamespace, cancellationToken);
        subscriber.StartLoop(subscriber.ReadPacketsAsync);
        return subscriber;
    }

    private async Task ReadPacketsAsync()
    {
        var buffer = new byte[4096];
        while (true)
        {
            var filled = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                result = await _socket.ReceiveAsync(buffer.AsMemory(filled), Stopping);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Tally.Closed ??= "the server ended the stream";
                    return;
                }
                filled += result.Count;
            }
            while (!result.EndOfMessage);
            if (filled == 1 && buffer[0] == (byte)'2')
            {
                await SendAsync(Pong, Stopping);
            }
            else
            {
                Tally.Observe(buffer.AsSpan(0, filled));
            }
        }
    }

    private async Task SendAsync(byte[] packet, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(packet, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }

    protected override ValueTask CloseAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        _sending.Dispose();
        return ValueTask.CompletedTask;
    }
}

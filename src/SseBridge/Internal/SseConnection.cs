using System.IO.Pipelines;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// One SSE response as a SignalR connection, so that the hub, every <c>HubLifetimeManager</c> (memory or
/// Redis) and presence treat it like any other. The hub side writes frames into <see cref="Transport"/>;
/// <see cref="SseStreamPump"/> copies them to the response. The hub side never waits on the response: the
/// outgoing pipe does not apply back-pressure, and a reader that falls more than the allowed number of
/// bytes behind is closed instead.
/// </summary>
internal sealed class SseConnection : ConnectionContext, IConnectionUserFeature, IHttpContextFeature, IConnectionItemsFeature, IConnectionIdFeature
{
    private readonly Pipe _toHub = new();
    private readonly Pipe _fromHub = new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
    private readonly BoundedPipeWriter _output;
    private readonly CancellationTokenSource _closed = new();
    private long _lastPulseTicks;

    public SseConnection(string connectionId, HttpContext http, long maxUnsentBytes, TimeProvider time)
    {
        ConnectionId = connectionId;
        HttpContext = http;
        User = http.User;
        _output = new BoundedPipeWriter(_fromHub.Writer, maxUnsentBytes, () =>
        {
            Close("the client reads too slowly");
            // The pump may be blocked writing to this client: cut the socket so it stops too.
            http.Abort();
        });
        Transport = new DuplexPipe(_toHub.Reader, _output);
        Features.Set<IConnectionUserFeature>(this);
        Features.Set<IHttpContextFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionIdFeature>(this);
        Time = time;
        Pulse();
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new ConnectionItems();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException();
    }

    public ClaimsPrincipal? User { get; set; }

    public HttpContext? HttpContext { get; set; }

    public TimeProvider Time { get; }

    /// <summary>The frames the hub side wrote, for the pump.</summary>
    public PipeReader Outgoing => _fromHub.Reader;

    /// <summary>Why the bridge closed the stream, if it did.</summary>
    public string? CloseReason { get; private set; }

    public DateTimeOffset LastPulse => new(Interlocked.Read(ref _lastPulseTicks), TimeSpan.Zero);

    public void Pulse() => Interlocked.Exchange(ref _lastPulseTicks, Time.GetUtcNow().UtcTicks);

    /// <summary>Feeds the SignalR handshake for the SSE protocol, as a client would send it.</summary>
    public async Task StartAsync()
    {
        await _toHub.Writer.WriteAsync(Encoding.UTF8.GetBytes($"{{\"protocol\":\"{SseHubProtocol.ProtocolName}\",\"version\":1}}\u001e"));
    }

    /// <summary>The pump sent <paramref name="bytes"/> to the client.</summary>
    public void Sent(long bytes) => _output.Consumed(bytes);

    /// <summary>The hub side is done: the pump sends what is left and ends.</summary>
    public void CompleteOutgoing() => _fromHub.Writer.Complete();

    /// <summary>Ends the connection: SignalR sees the client leave and runs the disconnect (leave events, presence).</summary>
    public void Close(string reason)
    {
        CloseReason ??= reason;
        _toHub.Writer.Complete();
        _fromHub.Reader.CancelPendingRead();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    public override void Abort(ConnectionAbortedException abortReason) => Close(abortReason.Message);

    public override async ValueTask DisposeAsync()
    {
        _toHub.Writer.Complete();
        _toHub.Reader.Complete();
        _fromHub.Writer.Complete();
        _fromHub.Reader.Complete();
        _closed.Dispose();
        await base.DisposeAsync();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

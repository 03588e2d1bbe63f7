using System.Buffers;
using System.IO.Pipelines;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using ServerEvents.Internal;

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
    // Never disposed: SignalR may still hold registrations on ConnectionClosed when the request ends.
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _input = new();
    private bool _inputCompleted;
    private long _lastPulseTicks;

    public SseConnection(string connectionId, HttpContext http, long maxUnsentBytes, TimeProvider time, ServerEventsMetrics metrics)
    {
        ConnectionId = connectionId;
        HttpContext = http;
        User = http.User;
        _output = new BoundedPipeWriter(_fromHub.Writer, maxUnsentBytes, () =>
        {
            metrics.SlowClientClosed(ServerEventsMetrics.Sse);
            Close("the client reads too slowly");
            // The pump may be blocked writing to this client: cut the socket so it stops too.
            http.Abort();
        });
        Transport = new DuplexPipe(_toHub.Reader, _output);
        Features.Set<IConnectionUserFeature>(this);
        Features.Set<IHttpContextFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionIdFeature>(this);
        Features.Set(SseTransportMarker.Instance);
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

    /// <summary>True once the hub side has finished with this connection.</summary>
    public bool HubDone { get; private set; }

    /// <summary>Feeds the SignalR handshake for the SSE protocol, as a client would send it.</summary>
    public ValueTask<FlushResult> StartAsync()
    {
        lock (_input)
        {
            if (_inputCompleted)
            {
                return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: true));
            }
            _toHub.Writer.Write(Encoding.UTF8.GetBytes($"{{\"protocol\":\"{SseHubProtocol.ProtocolName}\",\"version\":1}}\u001e"));
            // The input pipe is far below its pause threshold: this flush completes at once, inside the lock.
            return _toHub.Writer.FlushAsync();
        }
    }

    /// <summary>The pump sent <paramref name="bytes"/> to the client.</summary>
    public void Sent(long bytes) => _output.Consumed(bytes);

    /// <summary>The hub side is done: the pump sends what is left and ends.</summary>
    public void MarkHubDone()
    {
        HubDone = true;
        _fromHub.Reader.CancelPendingRead();
    }

    /// <summary>Ends the connection: SignalR sees the client leave and runs the disconnect (leave events, presence).</summary>
    /// <remarks>
    /// Only the pipe ends this side owns are completed: the input writer here, the output reader by the pump.
    /// The hub side may still be writing from another thread, and a pipe end must not be completed under it.
    /// </remarks>
    public void Close(string reason)
    {
        lock (_input)
        {
            CloseReason ??= reason;
            if (!_inputCompleted)
            {
                _inputCompleted = true;
                _toHub.Writer.Complete();
            }
        }
        _fromHub.Reader.CancelPendingRead();
        _closed.Cancel();
    }

    public override void Abort(ConnectionAbortedException abortReason) => Close(abortReason.Message);

    public override async ValueTask DisposeAsync()
    {
        Close("disposed");
        await base.DisposeAsync();
    }
}

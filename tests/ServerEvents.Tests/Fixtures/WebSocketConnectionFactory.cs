using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// Lets the official SignalR <c>HubConnection</c> (SignalR.Client.Core) talk WebSockets without the
/// full client package: connects a <see cref="ClientWebSocket"/> straight to the hub URL (no negotiate).
/// </summary>
public sealed class WebSocketConnectionFactory(Action<ClientWebSocketOptions>? configure = null) : IConnectionFactory
{
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var uri = ((UriEndPoint)endpoint).Uri;
        var builder = new UriBuilder(uri) { Scheme = uri.Scheme == "https" ? "wss" : "ws" };
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(builder.Uri, cancellationToken);
        return new WebSocketConnection(socket);
    }

    /// <summary>Pumps bytes between the socket and a duplex pipe; SignalR frames messages itself.</summary>
    private sealed class WebSocketConnection : ConnectionContext
    {
        private readonly ClientWebSocket _socket;
        private readonly Pipe _fromServer = new();
        private readonly Pipe _toServer = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _receiving;
        private readonly Task _sending;

        public WebSocketConnection(ClientWebSocket socket)
        {
            _socket = socket;
            Transport = new DuplexPipe(_fromServer.Reader, _toServer.Writer);
            _receiving = ReceiveAsync();
            _sending = SendAsync();
        }

        public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override IDuplexPipe Transport { get; set; }

        public override void Abort() => _stop.Cancel();

        public override async ValueTask DisposeAsync()
        {
            _toServer.Writer.Complete();
            try
            {
                await _sending.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
            }
            _stop.Cancel();
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _socket.Dispose();
            _stop.Dispose();
            await base.DisposeAsync();
        }

        private async Task ReceiveAsync()
        {
            Exception? error = null;
            try
            {
                while (true)
                {
                    var memory = _fromServer.Writer.GetMemory(4096);
                    var result = await _socket.ReceiveAsync(memory, _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    _fromServer.Writer.Advance(result.Count);
                    // Cancellable: once the HubConnection stops reading, a full pipe must not block disposal.
                    var flush = await _fromServer.Writer.FlushAsync(_stop.Token);
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                error = ex;
            }
            await _fromServer.Writer.CompleteAsync(error);
        }

        private async Task SendAsync()
        {
            try
            {
                while (true)
                {
                    var result = await _toServer.Reader.ReadAsync(_stop.Token);
                    foreach (var segment in result.Buffer)
                    {
                        await _socket.SendAsync(segment, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
                    }
                    _toServer.Reader.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
                if (_socket.State == WebSocketState.Open)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
            await _toServer.Reader.CompleteAsync();
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

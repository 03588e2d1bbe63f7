using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;

namespace ServerEvents.Resp;

/// <summary>
/// One physical connection to Redis: TCP (optionally TLS), the handshake (AUTH, SELECT, CLIENT SETNAME),
/// then frame-level reads and buffered writes over System.IO.Pipelines.
/// </summary>
internal sealed class RedisSocket : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;

    private RedisSocket(Socket socket, Stream stream, string endPoint)
    {
        _socket = socket;
        _stream = stream;
        EndPoint = endPoint;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
    }

    public string EndPoint { get; }

    /// <summary>Connects and runs the handshake; failures become <see cref="RedisConnectionException"/> naming the endpoint.</summary>
    public static async Task<RedisSocket> ConnectAsync(RedisConnectionOptions options, string role, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        RedisSocket? connection = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token);
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = options.SslHost ?? options.Host,
                    RemoteCertificateValidationCallback = options.CertificateValidation,
                }, timeout.Token);
                stream = ssl;
            }
            connection = new RedisSocket(socket, stream, options.EndPoint);
            await connection.HandshakeAsync(options, role, timeout.Token);
            return connection;
        }
        catch (Exception ex) when (ex is not RedisConnectionException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            socket.Dispose();
            var reason = ex is OperationCanceledException && !cancellationToken.IsCancellationRequested
                ? $"no answer within {options.ConnectTimeout.TotalMilliseconds:0} ms"
                : ex.Message;
            throw new RedisConnectionException($"Cannot connect to Redis at {options.EndPoint}: {reason}", ex);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Copies an encoded command into the write buffer (sent on the next flush).</summary>
    public void Write(ReadOnlySpan<byte> encoded) => _writer.Write(encoded);

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default) => await _writer.FlushAsync(cancellationToken);

    /// <summary>Reads the next complete frame; <see langword="null"/> when the server closed the connection cleanly.</summary>
    public async ValueTask<RespValue?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            RespValue value;
            try
            {
                if (RespReader.TryRead(ref reader, out value))
                {
                    _reader.AdvanceTo(reader.Position);
                    return value;
                }
            }
            catch (RedisProtocolException ex)
            {
                throw new RedisConnectionException($"Redis at {EndPoint} sent malformed data: {ex.Message} (byte {reader.Consumed} of {buffer.Length} buffered, near '{Excerpt(buffer, reader.Consumed)}')", ex);
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                _reader.AdvanceTo(buffer.End);
                return buffer.IsEmpty ? null : throw new RedisConnectionException($"Redis at {EndPoint} closed the connection in the middle of a reply.");
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        // The pipes are not completed: completing hands their buffers back to the process-wide pool, and a read or
        // write still running on another thread (a read loop waiting for data, a writer loop mid-command) would then
        // fill a buffer that already belongs to another connection — which showed as one connection parsing bytes
        // of another's replies. A closed socket's buffers are left to the garbage collector instead.
        await Quietly(() => _stream.DisposeAsync());
        _socket.Dispose();
    }

    // A short, printable view of the bytes around a parse failure, for the error message.
    private static string Excerpt(ReadOnlySequence<byte> buffer, long position)
    {
        var start = Math.Max(0, position - 24);
        var slice = buffer.Slice(start, Math.Min(48, buffer.Length - start)).ToArray();
        return string.Concat(slice.Select(b => b switch
        {
            (byte)'\r' => "\\r",
            (byte)'\n' => "\\n",
            >= 32 and < 127 => ((char)b).ToString(),
            _ => "\\x" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture),
        }));
    }

    private static async Task Quietly(Func<ValueTask> close)
    {
        try
        {
            await close();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
        }
    }

    private async Task HandshakeAsync(RedisConnectionOptions options, string role, CancellationToken cancellationToken)
    {
        var steps = new List<(string What, RespCommand Command)>();
        if (options.Password is not null)
        {
            steps.Add(("AUTH", options.User is null
                ? RespCommand.Create("AUTH", options.Password)
                : RespCommand.Create("AUTH", options.User, options.Password)));
        }
        if (options.Database != 0)
        {
            steps.Add(("SELECT", RespCommand.Create("SELECT", (long)options.Database)));
        }
        var name = (options.ClientName ?? "serverevents") + "-" + role;
        steps.Add(("CLIENT SETNAME", RespCommand.Create("CLIENT", "SETNAME", name)));
        foreach (var (_, command) in steps)
        {
            Write(command.Encoded);
        }
        await FlushAsync(cancellationToken);
        foreach (var (what, _) in steps)
        {
            var reply = await ReadAsync(cancellationToken)
                ?? throw new RedisConnectionException($"Redis at {EndPoint} closed the connection during {what}.");
            if (reply.IsError)
            {
                throw new RedisConnectionException($"Redis at {EndPoint} refused {what}: {reply.AsString()}");
            }
        }
    }
}

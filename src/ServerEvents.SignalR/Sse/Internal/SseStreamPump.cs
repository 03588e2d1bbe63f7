using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// Copies one SSE connection's frames to its HTTP response as they come, flushing after each batch (no
/// response buffering), skips the SignalR handshake reply that is not meant for an SSE client, writes a
/// keep-alive comment when the stream has been quiet, and notices heartbeat replies going out.
/// </summary>
internal static class SseStreamPump
{
    /// <summary>Runs until the stream ends; returns the hub's reason when it refused the connection before any frame.</summary>
    public static async Task<string?> RunAsync(SseConnection connection, HttpResponse response, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var reader = connection.Outgoing;
        var quiet = true;
        using var keepAliveTimer = new PeriodicTimer(keepAlive);
        var ticking = TickAsync();
        try
        {
            if (!await SkipHandshakeReplyAsync(connection, cancellationToken))
            {
                return "The connection was refused.";
            }
            var first = true;
            while (!cancellationToken.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (result.IsCanceled && buffer.IsEmpty)
                {
                    if (connection.CloseReason is not null || connection.HubDone)
                    {
                        return null;
                    }
                    await response.Body.WriteAsync(KeepAliveBytes, cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    reader.AdvanceTo(buffer.Start);
                    continue;
                }
                if (first && !buffer.IsEmpty && StartsWith(buffer, SseFrames.ClosedComment))
                {
                    // Refused before its first event (SignalR's close message): no stream, the caller answers with the reason.
                    var reason = System.Text.Encoding.UTF8.GetString(buffer.ToArray()).Split('\n')[0][SseFrames.ClosedComment.Length..];
                    reader.AdvanceTo(buffer.End);
                    return reason;
                }
                if (!buffer.IsEmpty)
                {
                    first = false;
                    if (Contains(buffer, SseFrames.HeartbeatMarker))
                    {
                        connection.Pulse();
                    }
                    foreach (var segment in buffer)
                    {
                        await response.Body.WriteAsync(segment, cancellationToken);
                    }
                    await response.Body.FlushAsync(cancellationToken);
                    connection.Sent(buffer.Length);
                    quiet = false;
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || connection.HubDone)
                {
                    return null;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            keepAliveTimer.Dispose();
            await ticking;
            // The pump owns the reading end; later writes from the hub side are then simply dropped.
            await reader.CompleteAsync();
        }
        return null;

        async Task TickAsync()
        {
            try
            {
                while (await keepAliveTimer.WaitForNextTickAsync(CancellationToken.None))
                {
                    if (quiet)
                    {
                        // Wakes the pump with an empty read, which it answers with a keep-alive comment.
                        reader.CancelPendingRead();
                    }
                    quiet = true;
                }
            }
            catch (ObjectDisposedException)
            {
                // Timer disposed: the stream ended.
            }
        }
    }

    private static readonly byte[] KeepAliveBytes = SseFrames.KeepAlive.ToArray();

    /// <summary>Drops SignalR's handshake reply (<c>{…}\x1e</c>); false when the hub refused the handshake or the stream ended.</summary>
    private static async Task<bool> SkipHandshakeReplyAsync(SseConnection connection, CancellationToken cancellationToken)
    {
        var reader = connection.Outgoing;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var end = buffer.PositionOf((byte)0x1e);
            if (end is { } position)
            {
                var reply = buffer.Slice(0, position);
                var accepted = reply.ToArray().AsSpan().IndexOf("\"error\""u8) < 0;
                var consumed = buffer.GetPosition(1, position);
                connection.Sent(buffer.Slice(0, consumed).Length);
                reader.AdvanceTo(consumed);
                return accepted;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || (result.IsCanceled && (connection.HubDone || connection.CloseReason is not null)))
            {
                return false;
            }
        }
    }

    private static bool StartsWith(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> prefix) =>
        buffer.Length >= prefix.Length && buffer.Slice(0, prefix.Length).ToArray().AsSpan().SequenceEqual(prefix);

    // Searches across segments without copying the buffer (bursts of frames span many segments).
    private static bool Contains(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> marker)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, marker);
    }
}

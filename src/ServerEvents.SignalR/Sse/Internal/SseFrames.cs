using System.Buffers;
using System.Globalization;
using System.Text;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// Writes ServiceStack's SSE frames: <c>id: N\n</c>, one <c>data: [channel@]selector json\n</c> line, and an
/// empty line — LF only, no <c>event:</c> or <c>retry:</c> fields. Whatever the input, a frame is one event:
/// a CR or LF inside a channel, selector or JSON body is written as a space, so nothing can add a line.
/// (Valid JSON keeps its meaning: raw line breaks can only be whitespace between tokens.)
/// </summary>
internal static class SseFrames
{
    /// <summary>Sent when the stream has been idle; a comment line, ignored by every SSE client.</summary>
    public static ReadOnlySpan<byte> KeepAlive => ": keep-alive\n"u8;

    /// <summary>Starts the comment that carries SignalR's close reason (ignored by clients, read by the transport).</summary>
    public static ReadOnlySpan<byte> ClosedComment => ": closed: "u8;

    /// <summary>Writes the close reason as a comment line.</summary>
    public static void WriteClosed(IBufferWriter<byte> output, string reason)
    {
        Ascii(output, ": closed: ");
        SingleLine(output, reason);
        Ascii(output, "\n");
    }

    /// <summary>The marker the transport looks for to notice that a heartbeat reply passed through it.</summary>
    public static ReadOnlySpan<byte> HeartbeatMarker => "\ndata: cmd.onHeartbeat "u8;

    /// <summary>Writes one frame; <paramref name="id"/> 0 writes no <c>id:</c> line (hub sends without an event id).</summary>
    public static void Write(IBufferWriter<byte> output, long id, string? channel, string selector, string? json)
    {
        if (id > 0)
        {
            Ascii(output, "id: ");
            Ascii(output, id.ToString(CultureInfo.InvariantCulture));
            Ascii(output, "\n");
        }
        Ascii(output, "data: ");
        if (!string.IsNullOrEmpty(channel))
        {
            SingleLine(output, channel);
            Ascii(output, "@");
        }
        SingleLine(output, selector);
        Ascii(output, " ");
        SingleLine(output, json ?? "");
        Ascii(output, "\n\n");
    }

    private static void Ascii(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, span);
        output.Advance(written);
    }

    private static void SingleLine(IBufferWriter<byte> output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        var bytes = span[..written];
        // Almost never true (inputs are validated and JSON is compacted): this is the last line of defence.
        if (bytes.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            bytes.Replace((byte)'\n', (byte)' ');
            bytes.Replace((byte)'\r', (byte)' ');
        }
        output.Advance(written);
    }
}

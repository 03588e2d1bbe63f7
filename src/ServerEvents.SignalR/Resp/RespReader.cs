using System.Buffers;
using System.Buffers.Text;

namespace ServerEvents.Resp;

/// <summary>
/// Incremental RESP2 parser. <see cref="TryRead"/> consumes one complete frame, or returns
/// <see langword="false"/> and consumes nothing when the frame is not complete yet (never an exception for
/// a partial frame). Input that can never become valid RESP throws <see cref="RedisProtocolException"/>.
/// </summary>
internal static class RespReader
{
    /// <summary>Redis's own default <c>proto-max-bulk-len</c>.</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    public const int MaxArrayLength = 16 * 1024 * 1024;

    /// <summary>Nesting deeper than this is refused, so hostile input cannot exhaust the stack.</summary>
    public const int MaxDepth = 32;

    /// <summary>Longest header or simple-string line accepted before a CRLF must appear.</summary>
    public const int MaxLineLength = 64 * 1024;

    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    public static bool TryRead(ref SequenceReader<byte> reader, out RespValue value)
    {
        var probe = reader;
        if (TryReadValue(ref probe, 0, out value))
        {
            reader = probe;
            return true;
        }
        value = default;
        return false;
    }

    private static bool TryReadValue(ref SequenceReader<byte> reader, int depth, out RespValue value)
    {
        value = default;
        if (!reader.TryRead(out var type))
        {
            return false;
        }
        switch (type)
        {
            case (byte)'+':
            case (byte)'-':
                if (!TryReadLine(ref reader, out var line))
                {
                    return false;
                }
                value = RespValue.FromString((RespType)type, line.ToArray());
                return true;
            case (byte)':':
                if (!TryReadInteger(ref reader, out var integer))
                {
                    return false;
                }
                value = RespValue.FromInteger(integer);
                return true;
            case (byte)'$':
                return TryReadBulk(ref reader, out value);
            case (byte)'*':
                return TryReadArray(ref reader, depth, out value);
            default:
                throw new RedisProtocolException($"Unexpected RESP type byte 0x{type:X2} ('{(type is >= 32 and < 127 ? (char)type : '?')}').");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, out RespValue value)
    {
        value = default;
        if (!TryReadInteger(ref reader, out var length))
        {
            return false;
        }
        if (length == -1)
        {
            value = RespValue.Null;
            return true;
        }
        if (length < -1 || length > MaxBulkLength)
        {
            throw new RedisProtocolException($"Invalid bulk string length {length}.");
        }
        if (reader.Remaining < length + 2)
        {
            return false;
        }
        var bytes = new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext(CrLf, advancePast: true))
        {
            throw new RedisProtocolException("Bulk string is not followed by CRLF.");
        }
        value = RespValue.FromString(RespType.BulkString, bytes);
        return true;
    }

    private static bool TryReadArray(ref SequenceReader<byte> reader, int depth, out RespValue value)
    {
        value = default;
        if (!TryReadInteger(ref reader, out var count))
        {
            return false;
        }
        if (count == -1)
        {
            value = RespValue.Null;
            return true;
        }
        if (count < -1 || count > MaxArrayLength)
        {
            throw new RedisProtocolException($"Invalid array length {count}.");
        }
        if (depth + 1 > MaxDepth)
        {
            throw new RedisProtocolException($"Arrays nested deeper than {MaxDepth} levels.");
        }
        // Each element needs at least 3 bytes; don't allocate for a huge count that cannot be here yet.
        if (reader.Remaining < count * 3)
        {
            return false;
        }
        var items = new RespValue[count];
        for (var i = 0; i < count; i++)
        {
            if (!TryReadValue(ref reader, depth + 1, out items[i]))
            {
                return false;
            }
        }
        value = RespValue.FromArray(items);
        return true;
    }

    private static bool TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }
        Span<byte> digits = stackalloc byte[21];
        if (line.Length is 0 or > 20)
        {
            throw new RedisProtocolException("Invalid RESP integer.");
        }
        line.CopyTo(digits);
        var text = digits[..(int)line.Length];
        if (!Utf8Parser.TryParse(text, out value, out var consumed) || consumed != text.Length || text[0] == (byte)'+')
        {
            throw new RedisProtocolException("Invalid RESP integer.");
        }
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (!reader.TryReadTo(out line, CrLf, advancePastDelimiter: true))
        {
            if (reader.Remaining > MaxLineLength)
            {
                throw new RedisProtocolException($"No CRLF within {MaxLineLength} bytes.");
            }
            return false;
        }
        if (line.Length > MaxLineLength || line.PositionOf((byte)'\n') is not null || line.PositionOf((byte)'\r') is not null)
        {
            throw new RedisProtocolException("Malformed RESP line.");
        }
        return true;
    }
}

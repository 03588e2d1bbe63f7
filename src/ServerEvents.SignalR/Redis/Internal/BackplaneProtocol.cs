using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// Binary payloads exchanged between app servers through their Redis inboxes. Strings are a 7-bit varint byte
/// length + UTF-8; byte blocks the same. Readers ignore trailing fields they do not know, so servers of
/// different versions can share one Redis.
/// <code>
/// inbox frame {seq as ASCII digits} '.' payload                                           (seq prepended by the send script, per inbox)
/// event       {id as ASCII digits} 'E' origin targets excluded[] channel? selector json   (id prepended by the send script; history keeps it)
/// invocation  'I' origin targets excluded[] count (protocolName, bytes)*                  (serialized once per protocol)
/// group       'G' origin requestId action(1 = add, 0 = remove) group connectionId         (to the owner's inbox; the owner acks)
/// close       'X' origin connectionId                                                      (to the owner's inbox)
/// ack         'A' requestId done(1, or 0: the connection is not there)                    (to the requester's inbox)
/// close all   'R' origin                                                                   (to every inbox)
/// client call 'V' origin invocationId connectionId count (protocolName, bytes)*           (to the owner's inbox; the owner relays the result)
/// result      'C' invocationId protocolName outcome data   (4: the client's whole completion message in its protocol, as on the
///                                                          wire; 3: the connection is gone, data its text; to the requester's inbox)
/// probe       'P' nonce                                                                    (a server to itself: its inbox is read again)
/// batch       'B' ({length as ASCII digits} ':' event)*                                    (several events of one send, in id order)
/// targets     kind (0 all, 1 groups, 2 connections, 3 users) names[]
/// </code>
/// </summary>
internal static class BackplaneProtocol
{
    public const byte Event = (byte)'E';
    public const byte Invocation = (byte)'I';
    public const byte Group = (byte)'G';
    public const byte Close = (byte)'X';
    public const byte Ack = (byte)'A';
    public const byte CloseAll = (byte)'R';
    public const byte ClientInvocation = (byte)'V';
    public const byte ClientResult = (byte)'C';
    public const byte Probe = (byte)'P';
    public const byte Batch = (byte)'B';

    // 0–2 (an error, a raw value, nothing) were the outcomes before whole completions were relayed.
    public const int ResultConnectionGone = 3;
    public const int ResultCompletion = 4;

    public static byte[] WriteEventBody(string origin, Targets targets, IReadOnlyList<string>? excluded, string? channel, string selector, string json)
    {
        var writer = new Writer(Event);
        writer.String(origin);
        writer.Targets(targets);
        writer.Strings(excluded);
        writer.NullableString(channel);
        writer.String(selector);
        writer.String(json);
        return writer.ToArray();
    }

    /// <summary>Reads an event message as published (id prepended); false when it is not one. Throws <see cref="FormatException"/> when malformed.</summary>
    public static bool TryReadEvent(ReadOnlySpan<byte> message, out ServerEvent serverEvent, out Targets targets, out string[] excluded)
    {
        serverEvent = null!;
        excluded = [];
        targets = default;
        if (!TrySplitEventId(message, out var eventId, out var start))
        {
            return false;
        }
        var reader = new Reader(message[start..]);
        reader.Kind();
        reader.String(); // origin
        targets = reader.Targets();
        excluded = reader.Strings();
        var channel = reader.NullableString();
        var selector = reader.String();
        serverEvent = new ServerEvent(eventId, channel, selector, reader.String());
        return true;
    }

    /// <summary>Splits the "{seq}." an inbox message starts with from its payload. Throws <see cref="FormatException"/> when there is none.</summary>
    public static long SplitInboxSequence(ReadOnlySpan<byte> frame, out int payloadStart)
    {
        long sequence = 0;
        var i = 0;
        while (i < frame.Length && frame[i] is >= (byte)'0' and <= (byte)'9')
        {
            sequence = (sequence * 10) + (frame[i] - '0');
            i++;
        }
        if (i == 0 || i >= frame.Length || frame[i] != (byte)'.')
        {
            throw new FormatException("An inbox message without its sequence number.");
        }
        payloadStart = i + 1;
        return sequence;
    }

    /// <summary>
    /// The next event of a batch ('B' already read): its bytes, and where the one after it starts; false at the end.
    /// Throws <see cref="FormatException"/> when malformed.
    /// </summary>
    public static bool TryReadBatchEntry(ReadOnlySpan<byte> batch, ref int position, out Range entry)
    {
        entry = default;
        if (position >= batch.Length)
        {
            return false;
        }
        var length = 0;
        var i = position;
        while (i < batch.Length && batch[i] is >= (byte)'0' and <= (byte)'9')
        {
            length = checked((length * 10) + (batch[i] - '0'));
            i++;
        }
        if (i == position || i >= batch.Length || batch[i] != (byte)':' || i + 1 + length > batch.Length)
        {
            throw new FormatException("A malformed batch in an inbox message.");
        }
        entry = new Range(i + 1, i + 1 + length);
        position = i + 1 + length;
        return true;
    }

    public static byte[] WriteProbe(long nonce)
    {
        var writer = new Writer(Probe);
        writer.VarInt(nonce);
        return writer.ToArray();
    }

    public static byte[] WriteInvocation(string origin, Targets targets, IReadOnlyList<string>? excluded, IReadOnlyList<(string Protocol, ReadOnlyMemory<byte> Payload)> serialized)
    {
        var writer = new Writer(Invocation);
        writer.String(origin);
        writer.Targets(targets);
        writer.Strings(excluded);
        writer.Serialized(serialized);
        return writer.ToArray();
    }

    public static byte[] WriteClientInvocation(string origin, string invocationId, string connectionId, IReadOnlyList<(string Protocol, ReadOnlyMemory<byte> Payload)> serialized)
    {
        var writer = new Writer(ClientInvocation);
        writer.String(origin);
        writer.String(invocationId);
        writer.String(connectionId);
        writer.Serialized(serialized);
        return writer.ToArray();
    }

    /// <summary>A client's answer: an outcome, then the completion message in <paramref name="protocol"/>'s format (or a text).</summary>
    public static byte[] WriteClientResult(string invocationId, string protocol, int outcome, ReadOnlySpan<byte> data)
    {
        var writer = new Writer(ClientResult);
        writer.String(invocationId);
        writer.String(protocol);
        writer.VarInt(outcome);
        writer.Bytes(data);
        return writer.ToArray();
    }

    public static byte[] WriteGroup(string origin, long requestId, bool add, string group, string connectionId)
    {
        var writer = new Writer(Group);
        writer.String(origin);
        writer.VarInt(requestId);
        writer.VarInt(add ? 1 : 0);
        writer.String(group);
        writer.String(connectionId);
        return writer.ToArray();
    }

    public static byte[] WriteClose(string origin, string connectionId)
    {
        var writer = new Writer(Close);
        writer.String(origin);
        writer.String(connectionId);
        return writer.ToArray();
    }

    public static byte[] WriteCloseAll(string origin)
    {
        var writer = new Writer(CloseAll);
        writer.String(origin);
        return writer.ToArray();
    }

    public static byte[] WriteAck(long requestId, bool done)
    {
        var writer = new Writer(Ack);
        writer.VarInt(requestId);
        writer.VarInt(done ? 1 : 0);
        return writer.ToArray();
    }

    /// <summary>Splits the ASCII event id the publish script prepended from the rest of the message.</summary>
    public static bool TrySplitEventId(ReadOnlySpan<byte> message, out long eventId, out int bodyStart)
    {
        eventId = 0;
        bodyStart = 0;
        var i = 0;
        while (i < message.Length && message[i] is >= (byte)'0' and <= (byte)'9')
        {
            eventId = (eventId * 10) + (message[i] - '0');
            i++;
        }
        if (i == 0 || i >= message.Length || message[i] != Event)
        {
            return false;
        }
        bodyStart = i;
        return true;
    }

    /// <summary>Sequential reader over one payload; throws <see cref="FormatException"/> on truncated input.</summary>
    public ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public byte Kind() => _data.Length > 0 ? _data[_position++] : throw new FormatException("Empty backplane message.");

        public long VarInt()
        {
            long value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length)
                {
                    throw new FormatException("Truncated backplane message.");
                }
                var b = _data[_position++];
                value |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }
            throw new FormatException("Malformed varint in backplane message.");
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = checked((int)VarInt());
            if (length < 0 || _position + length > _data.Length)
            {
                throw new FormatException("Truncated backplane message.");
            }
            var span = _data.Slice(_position, length);
            _position += length;
            return span;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        /// <summary>Reads what <see cref="Writer.Serialized"/> wrote, ready for SignalR.</summary>
        public SerializedHubMessage Serialized()
        {
            var count = (int)VarInt();
            var messages = new List<SerializedMessage>(count);
            for (var i = 0; i < count; i++)
            {
                var protocol = String();
                messages.Add(new SerializedMessage(protocol, Bytes().ToArray()));
            }
            return new SerializedHubMessage(messages);
        }

        public string? NullableString() => VarInt() == 0 ? null : String();

        public Targets Targets()
        {
            var kind = (TargetKind)VarInt();
            return new Targets(kind, Strings());
        }

        public string[] Strings()
        {
            var count = checked((int)VarInt());
            var result = count == 0 ? [] : new string[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = String();
            }
            return result;
        }
    }

    private sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);

        public Writer(byte kind) => _buffer.Write([kind]);

        /// <summary>A message serialized once per hub protocol: count, then (protocol name, bytes) pairs.</summary>
        public void Serialized(IReadOnlyList<(string Protocol, ReadOnlyMemory<byte> Payload)> serialized)
        {
            VarInt(serialized.Count);
            foreach (var (protocol, payload) in serialized)
            {
                String(protocol);
                Bytes(payload.Span);
            }
        }

        public void VarInt(long value)
        {
            var v = (ulong)value;
            Span<byte> span = stackalloc byte[10];
            var i = 0;
            while (v >= 0x80)
            {
                span[i++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[i++] = (byte)v;
            _buffer.Write(span[..i]);
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            VarInt(bytes.Length);
            _buffer.Write(bytes);
        }

        public void String(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            VarInt(length);
            var span = _buffer.GetSpan(length);
            Encoding.UTF8.GetBytes(value, span);
            _buffer.Advance(length);
        }

        public void NullableString(string? value)
        {
            VarInt(value is null ? 0 : 1);
            if (value is not null)
            {
                String(value);
            }
        }

        public void Targets(Targets targets)
        {
            VarInt((long)targets.Kind);
            Strings(targets.Names);
        }

        public void Strings(IReadOnlyList<string>? values)
        {
            VarInt(values?.Count ?? 0);
            foreach (var value in values ?? [])
            {
                String(value);
            }
        }

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Who a message is for, on each server that receives it.</summary>
internal enum TargetKind
{
    All = 0,
    Groups = 1,
    Connections = 2,
    Users = 3,
}

/// <summary>The recipients of a message: every local connection, or the local members of the named groups, connections or users.</summary>
internal readonly record struct Targets(TargetKind Kind, IReadOnlyList<string> Names)
{
    public static Targets All { get; } = new(TargetKind.All, []);
}

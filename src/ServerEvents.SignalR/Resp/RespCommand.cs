using System.Buffers.Text;
using System.Text;

namespace ServerEvents.Resp;

/// <summary>
/// A command encoded once as a RESP array of bulk strings, ready to be copied to the socket.
/// Build with <see cref="Create(string, object?[])"/> or the fluent <see cref="Builder"/>.
/// </summary>
public sealed class RespCommand
{
    private RespCommand(string name, byte[] encoded)
    {
        Name = name;
        Encoded = encoded;
    }

    /// <summary>The command name, for error messages (arguments are never echoed: they may hold secrets).</summary>
    public string Name { get; }

    internal byte[] Encoded { get; }

    /// <summary>Encodes a command; arguments may be strings, byte arrays, memory, or integers.</summary>
    public static RespCommand Create(string name, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        // Sized exactly up front: a publish command carries the whole payload, which is then copied once.
        var size = PrefixSize(args.Length + 1) + BulkSize(Encoding.UTF8.GetByteCount(name));
        foreach (var arg in args)
        {
            size += BulkSize(arg switch
            {
                string s => Encoding.UTF8.GetByteCount(s),
                byte[] b => b.Length,
                ReadOnlyMemory<byte> m => m.Length,
                long l => Digits(l),
                int i => Digits(i),
                _ => 0, // Add below reports the bad argument
            });
        }
        var builder = new Builder(name, args.Length, size);
        foreach (var arg in args)
        {
            builder.Add(arg);
        }
        return builder.Build();
    }

    private static int BulkSize(int length) => PrefixSize(length) + length + 2;

    private static int PrefixSize(long value) => Digits(value) + 3;

    private static int Digits(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        return written;
    }

    /// <summary>Writes <c>*N</c> then each argument as a bulk string.</summary>
    internal sealed class Builder
    {
        private readonly string _name;
        private readonly int _expected;
        private byte[] _buffer;
        private int _written;
        private int _count;

        public Builder(string name, int argumentCount, int capacity = 64)
        {
            _buffer = new byte[capacity];
            _name = name;
            _expected = argumentCount + 1;
            WritePrefix((byte)'*', _expected);
            Add(name);
        }

        public Builder Add(object? arg) => arg switch
        {
            string s => Add(s),
            byte[] b => Add(b.AsSpan()),
            ReadOnlyMemory<byte> m => Add(m.Span),
            long l => Add(l),
            int i => Add(i),
            null => throw new ArgumentNullException(nameof(arg), $"{_name}: arguments cannot be null."),
            _ => throw new ArgumentException($"{_name}: unsupported argument type {arg.GetType().Name}.", nameof(arg)),
        };

        public Builder Add(string value)
        {
            var length = Encoding.UTF8.GetByteCount(value);
            WritePrefix((byte)'$', length);
            var span = Reserve(length + 2);
            Encoding.UTF8.GetBytes(value, span);
            span[length] = (byte)'\r';
            span[length + 1] = (byte)'\n';
            _count++;
            return this;
        }

        public Builder Add(ReadOnlySpan<byte> value)
        {
            WritePrefix((byte)'$', value.Length);
            var span = Reserve(value.Length + 2);
            value.CopyTo(span);
            span[value.Length] = (byte)'\r';
            span[value.Length + 1] = (byte)'\n';
            _count++;
            return this;
        }

        public Builder Add(long value)
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(value, digits, out var written);
            return Add(digits[..written]);
        }

        public RespCommand Build()
        {
            if (_count != _expected)
            {
                throw new InvalidOperationException($"{_name}: declared {_expected} parts but wrote {_count}.");
            }
            return new RespCommand(_name, _written == _buffer.Length ? _buffer : _buffer.AsSpan(0, _written).ToArray());
        }

        private void WritePrefix(byte type, long value)
        {
            Span<byte> prefix = stackalloc byte[24];
            prefix[0] = type;
            Utf8Formatter.TryFormat(value, prefix[1..], out var written);
            prefix[written + 1] = (byte)'\r';
            prefix[written + 2] = (byte)'\n';
            prefix[..(written + 3)].CopyTo(Reserve(written + 3));
        }

        // The next `length` bytes of the buffer, marked written; grows by doubling when a size was not given.
        private Span<byte> Reserve(int length)
        {
            if (_written + length > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + length));
            }
            var span = _buffer.AsSpan(_written, length);
            _written += length;
            return span;
        }
    }
}

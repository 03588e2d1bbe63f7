using System.Buffers;
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
        var builder = new Builder(name, args.Length);
        foreach (var arg in args)
        {
            builder.Add(arg);
        }
        return builder.Build();
    }

    /// <summary>Writes <c>*N</c> then each argument as a bulk string.</summary>
    internal sealed class Builder
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64);
        private readonly string _name;
        private readonly int _expected;
        private int _count;

        public Builder(string name, int argumentCount)
        {
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
            var span = _buffer.GetSpan(length + 2);
            Encoding.UTF8.GetBytes(value, span);
            span[length] = (byte)'\r';
            span[length + 1] = (byte)'\n';
            _buffer.Advance(length + 2);
            _count++;
            return this;
        }

        public Builder Add(ReadOnlySpan<byte> value)
        {
            WritePrefix((byte)'$', value.Length);
            var span = _buffer.GetSpan(value.Length + 2);
            value.CopyTo(span);
            span[value.Length] = (byte)'\r';
            span[value.Length + 1] = (byte)'\n';
            _buffer.Advance(value.Length + 2);
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
            return new RespCommand(_name, _buffer.WrittenSpan.ToArray());
        }

        private void WritePrefix(byte type, long value)
        {
            var span = _buffer.GetSpan(24);
            span[0] = type;
            Utf8Formatter.TryFormat(value, span[1..], out var written);
            span[written + 1] = (byte)'\r';
            span[written + 2] = (byte)'\n';
            _buffer.Advance(written + 3);
        }
    }
}

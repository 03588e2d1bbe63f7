using System.Globalization;
using System.Text;

namespace ServerEvents.Resp;

/// <summary>The RESP2 reply kinds (the byte that starts each frame), plus <see cref="Null"/>.</summary>
internal enum RespType : byte
{
    Null = 0,
    SimpleString = (byte)'+',
    Error = (byte)'-',
    Integer = (byte)':',
    BulkString = (byte)'$',
    Array = (byte)'*',
}

/// <summary>One parsed RESP reply. Strings are copied out of the network buffer, so a value outlives it.</summary>
internal readonly struct RespValue
{
    private readonly object? _data;
    private readonly long _integer;

    private RespValue(RespType type, object? data, long integer)
    {
        Type = type;
        _data = data;
        _integer = integer;
    }

    public static RespValue Null { get; } = new(RespType.Null, null, 0);

    public RespType Type { get; }

    public bool IsNull => Type == RespType.Null;

    public bool IsError => Type == RespType.Error;

    public long Integer => Type == RespType.Integer ? _integer : throw WrongType(RespType.Integer);

    /// <summary>The bytes of a simple string, error or bulk string.</summary>
    public ReadOnlyMemory<byte> Bytes => _data as byte[] ?? throw WrongType(RespType.BulkString);

    public RespValue[] Items => _data as RespValue[] ?? throw WrongType(RespType.Array);

    public static RespValue FromString(RespType type, byte[] bytes) => new(type, bytes, 0);

    public static RespValue FromInteger(long value) => new(RespType.Integer, null, value);

    public static RespValue FromArray(RespValue[] items) => new(RespType.Array, items, 0);

    /// <summary>Text of a string reply, the number of an integer reply, or <see langword="null"/>.</summary>
    public string? AsString() => Type switch
    {
        RespType.Null => null,
        RespType.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RespType.Array => throw WrongType(RespType.BulkString),
        _ => Encoding.UTF8.GetString((byte[])_data!),
    };

    public override string ToString() => Type switch
    {
        RespType.Array => "[" + string.Join(", ", Items.Select(i => i.ToString())) + "]",
        RespType.Null => "(nil)",
        RespType.Error => "(error) " + AsString(),
        _ => AsString() ?? "",
    };

    private InvalidOperationException WrongType(RespType expected) =>
        new($"Expected a RESP {expected} reply but got {Type}{(IsError ? ": " + AsString() : "")}.");
}

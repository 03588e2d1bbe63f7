using System.Globalization;
using System.Text;

namespace ServerEvents.Resp;

/// <summary>The RESP2 reply kinds (the byte that starts each frame), plus <see cref="Null"/>.</summary>
public enum RespType : byte
{
    /// <summary>A null bulk string or null array.</summary>
    Null = 0,

    /// <summary>A status reply such as <c>OK</c>.</summary>
    SimpleString = (byte)'+',

    /// <summary>An error reply.</summary>
    Error = (byte)'-',

    /// <summary>A 64-bit integer.</summary>
    Integer = (byte)':',

    /// <summary>A binary-safe string.</summary>
    BulkString = (byte)'$',

    /// <summary>An array of replies.</summary>
    Array = (byte)'*',
}

/// <summary>One parsed RESP reply. Strings are copied out of the network buffer, so a value outlives it.</summary>
public readonly struct RespValue
{
    private readonly object? _data;
    private readonly long _integer;

    private RespValue(RespType type, object? data, long integer)
    {
        Type = type;
        _data = data;
        _integer = integer;
    }

    /// <summary>The null reply.</summary>
    public static RespValue Null { get; } = new(RespType.Null, null, 0);

    /// <summary>The kind of reply.</summary>
    public RespType Type { get; }

    /// <summary>True for a null reply (a missing key, for example).</summary>
    public bool IsNull => Type == RespType.Null;

    /// <summary>True for an error reply.</summary>
    public bool IsError => Type == RespType.Error;

    /// <summary>The number of an integer reply; throws for other kinds.</summary>
    public long Integer => Type == RespType.Integer ? _integer : throw WrongType(RespType.Integer);

    /// <summary>The bytes of a simple string, error or bulk string.</summary>
    public ReadOnlyMemory<byte> Bytes => _data as byte[] ?? throw WrongType(RespType.BulkString);

    /// <summary>The elements of an array reply; throws for other kinds.</summary>
    public RespValue[] Items => _data as RespValue[] ?? throw WrongType(RespType.Array);

    internal static RespValue FromString(RespType type, byte[] bytes) => new(type, bytes, 0);

    internal static RespValue FromInteger(long value) => new(RespType.Integer, null, value);

    internal static RespValue FromArray(RespValue[] items) => new(RespType.Array, items, 0);

    /// <summary>Text of a string reply, the number of an integer reply, or <see langword="null"/>.</summary>
    public string? AsString() => Type switch
    {
        RespType.Null => null,
        RespType.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RespType.Array => throw WrongType(RespType.BulkString),
        _ => Encoding.UTF8.GetString((byte[])_data!),
    };

    /// <summary>A readable rendering, for diagnostics and tests.</summary>
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

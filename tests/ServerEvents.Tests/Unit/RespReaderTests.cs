using System.Buffers;
using System.Text;
using ServerEvents.Resp;

namespace ServerEvents.Tests.Unit;

public sealed class RespReaderTests
{
    private const string Stream =
        "+OK\r\n" +
        "-ERR unknown command 'FOO'\r\n" +
        ":0\r\n:-42\r\n:9223372036854775807\r\n" +
        "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n" +
        "$4\r\na\r\nb\r\n" +
        "*0\r\n*-1\r\n" +
        "*3\r\n:1\r\n*2\r\n+nested\r\n$-1\r\n$3\r\nend\r\n";

    private static readonly string[] Expected =
    [
        "OK", "(error) ERR unknown command 'FOO'", "0", "-42", "9223372036854775807",
        "hello", "", "(nil)", "a\r\nb", "[]", "(nil)", "[1, [nested, (nil)], end]",
    ];

    [Fact]
    public void Reads_every_reply_type()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        Assert.Equal(Expected, ParseAll(bytes, out var consumed));
        Assert.Equal(bytes.Length, consumed);
    }

    [Fact]
    public void A_stream_split_at_every_byte_offset_parses_the_same()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var sequence = TwoSegments(bytes, split);
            var reader = new SequenceReader<byte>(sequence);
            var values = new List<string>();
            while (RespReader.TryRead(ref reader, out var value))
            {
                values.Add(value.ToString());
            }
            Assert.Equal(Expected, values);
        }
    }

    [Fact]
    public void A_partial_frame_consumes_nothing_and_never_throws()
    {
        var bytes = Encoding.UTF8.GetBytes(Stream);
        var previous = 0;
        for (var length = 0; length <= bytes.Length; length++)
        {
            var values = ParseAll(bytes.AsSpan(0, length).ToArray(), out var consumed);
            Assert.True(values.Count >= previous);
            Assert.Equal(Expected.Take(values.Count), values);
            previous = values.Count;
            Assert.True(consumed <= length);
        }
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData(":12a\r\n")]
    [InlineData(":\r\n")]
    [InlineData(":+5\r\n")]
    [InlineData(":99999999999999999999999\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("$3\r\nabcXY")]
    [InlineData("*-5\r\n")]
    [InlineData("+OK\nstill\r\n")]
    [InlineData("$99999999999\r\n")]
    public void Malformed_input_is_a_protocol_error(string input) =>
        Assert.Throws<RedisProtocolException>(() => ParseAll(Encoding.UTF8.GetBytes(input), out _));

    [Fact]
    public void Deep_nesting_is_refused_instead_of_overflowing_the_stack()
    {
        var input = string.Concat(Enumerable.Repeat("*1\r\n", 10_000)) + ":1\r\n";
        Assert.Throws<RedisProtocolException>(() => ParseAll(Encoding.ASCII.GetBytes(input), out _));
    }

    [Fact]
    public void A_line_without_CRLF_is_refused_once_it_is_too_long()
    {
        Assert.Empty(ParseAll(Encoding.ASCII.GetBytes("+" + new string('x', 1000)), out _));
        Assert.Throws<RedisProtocolException>(() => ParseAll(Encoding.ASCII.GetBytes("+" + new string('x', RespReader.MaxLineLength + 10)), out _));
    }

    [Fact]
    public void Random_input_never_hangs_or_throws_anything_but_protocol_errors()
    {
        var random = new Random(12345);
        var alphabet = "+-:$*\r\n0123456789-abc"u8.ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(1, 40)];
            for (var j = 0; j < bytes.Length; j++)
            {
                bytes[j] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }
            try
            {
                ParseAll(bytes, out _);
            }
            catch (RedisProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Commands_are_encoded_as_arrays_of_bulk_strings()
    {
        var command = RespCommand.Create("SET", "k€y", new byte[] { 0, 13, 10 }, 42L);
        Assert.Equal("*4\r\n$3\r\nSET\r\n$5\r\nk€y\r\n$3\r\n\0\r\n\r\n$2\r\n42\r\n", Encoding.UTF8.GetString(command.Encoded));
        Assert.Throws<ArgumentNullException>(() => RespCommand.Create("GET", [null]));
    }

    [Fact]
    public void Commands_encode_every_argument_kind_exactly_whatever_the_buffer_started_at()
    {
        var payload = new byte[5000];
        Array.Fill(payload, (byte)'x');
        var command = RespCommand.Create("EVALSHA", "", -7, int.MaxValue, long.MinValue, (ReadOnlyMemory<byte>)payload.AsMemory(0, 3), payload);
        var expected = "*7\r\n$7\r\nEVALSHA\r\n$0\r\n\r\n$2\r\n-7\r\n$10\r\n2147483647\r\n$20\r\n-9223372036854775808\r\n$3\r\nxxx\r\n"
            + "$5000\r\n" + new string('x', 5000) + "\r\n";
        Assert.Equal(expected, Encoding.UTF8.GetString(command.Encoded));
        // The fluent builder starts small and grows.
        var built = new RespCommand.Builder("EVALSHA", 6).Add("").Add(-7).Add(int.MaxValue).Add(long.MinValue).Add(payload.AsSpan(0, 3)).Add(payload).Build();
        Assert.Equal(expected, Encoding.UTF8.GetString(built.Encoded));
        Assert.Throws<ArgumentException>(() => RespCommand.Create("GET", 1.5));
    }

    private static List<string> ParseAll(byte[] bytes, out long consumed)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var values = new List<string>();
        while (RespReader.TryRead(ref reader, out var value))
        {
            values.Add(value.ToString());
        }
        consumed = reader.Consumed;
        return values;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split)
    {
        var first = new Segment(bytes.AsMemory(0, split));
        var last = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

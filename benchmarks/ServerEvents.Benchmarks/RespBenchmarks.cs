using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using ServerEvents.Resp;

namespace ServerEvents.Benchmarks;

/// <summary>RESP writing (a publish-sized command) and parsing (a pub/sub message frame, whole and in 1 KB segments).</summary>
[MemoryDiagnoser]
public class RespBenchmarks
{
    private byte[] _payload = [];
    private ReadOnlySequence<byte> _frame;
    private ReadOnlySequence<byte> _segmentedFrame;

    [Params(100, 4096)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = Encoding.UTF8.GetBytes(new string('x', PayloadBytes));
        var frame = Encoding.ASCII.GetBytes($"*3\r\n$7\r\nmessage\r\n$22\r\nse:Hub:group:home-chat\r\n${_payload.Length}\r\n")
            .Concat(_payload).Concat("\r\n"u8.ToArray()).ToArray();
        _frame = new ReadOnlySequence<byte>(frame);
        _segmentedFrame = Segments.Split(frame, 1024);
    }

    [Benchmark]
    public int Write_EVALSHA_publish() =>
        RespCommand.Create("EVALSHA", "0123456789abcdef0123456789abcdef01234567", 2L, "se:Hub:seq:events", "se:Hub:group:home", "1795400000000000", _payload).Encoded.Length;

    [Benchmark]
    public RespValue Parse_message_frame()
    {
        var reader = new SequenceReader<byte>(_frame);
        RespReader.TryRead(ref reader, out var value);
        return value;
    }

    [Benchmark]
    public RespValue Parse_message_frame_in_1KB_segments()
    {
        var reader = new SequenceReader<byte>(_segmentedFrame);
        RespReader.TryRead(ref reader, out var value);
        return value;
    }
}

/// <summary>Builds a multi-segment sequence, as a socket pipe hands data over.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] data, int size)
    {
        Segment? first = null, last = null;
        for (var offset = 0; offset < data.Length; offset += size)
        {
            var next = new Segment(data.AsMemory(offset, Math.Min(size, data.Length - offset)), last);
            first ??= next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}

using System.Buffers.Text;
using System.Diagnostics;

namespace ServerEvents.LoadDriver;

/// <summary>
/// What one subscriber saw of the benchmark stream: loss, duplicates and order by sequence number, and
/// end-to-end latency from the publish time each message carries. Fed by one read loop; read after it stopped.
/// </summary>
public sealed class Tally(int expected)
{
    private static readonly byte[] BenchSelector = "cmd.bench"u8.ToArray();
    private static readonly byte[] ProbeSelector = "cmd.probe"u8.ToArray();
    private readonly bool[] _seen = new bool[expected + 1];
    private readonly List<float> _latenciesMs = new(expected);
    private int _unique;
    private int _last;

    public int Expected => expected;

    public int Duplicates { get; private set; }

    public int OutOfOrder { get; private set; }

    /// <summary>Sequence numbers outside 1…expected (a message meant for somebody else).</summary>
    public int Strays { get; private set; }

    /// <summary>Set by the first probe: the subscriber is in its target group on every server.</summary>
    public bool Ready { get; private set; }

    /// <summary>Why the server ended the connection, if it did.</summary>
    public string? Closed { get; set; }

    /// <summary><see cref="Stopwatch"/> timestamp of the last benchmark message.</summary>
    public long LastReceivedAt { get; private set; }

    public IReadOnlyList<float> LatenciesMs => _latenciesMs;

    public bool Complete => Volatile.Read(ref _unique) >= expected;

    /// <summary>
    /// Reads one frame — a SignalR JSON record or an SSE <c>data:</c> line — looking for the benchmark selectors.
    /// The payload <c>{"seq":N,"ts":T,…}</c> comes after the selector in both, JSON-escaped in the hub's case,
    /// so the numbers are found by name without a JSON parse (the driver must stay cheaper than the servers).
    /// </summary>
    public void Observe(ReadOnlySpan<byte> frame)
    {
        if (frame.IndexOf(BenchSelector) is var at and >= 0)
        {
            var rest = frame[(at + BenchSelector.Length)..];
            if (TryReadNumber(ref rest, "seq"u8, out var seq) && TryReadNumber(ref rest, "ts"u8, out var ts))
            {
                Record((int)seq, ts);
            }
        }
        else if (!Ready && frame.IndexOf(ProbeSelector) >= 0)
        {
            Ready = true;
        }
    }

    private void Record(int seq, long publishedTicks)
    {
        var now = DateTime.UtcNow.Ticks;
        LastReceivedAt = Stopwatch.GetTimestamp();
        if (seq <= 0 || seq >= _seen.Length)
        {
            Strays++;
            return;
        }
        if (_seen[seq])
        {
            Duplicates++;
            return;
        }
        _seen[seq] = true;
        if (seq < _last)
        {
            OutOfOrder++;
        }
        _last = Math.Max(_last, seq);
        _latenciesMs.Add((float)((now - publishedTicks) / (double)TimeSpan.TicksPerMillisecond));
        Volatile.Write(ref _unique, _unique + 1);
    }

    // Finds `name`, skips the quotes, escapes and colon after it, parses the digits; advances past them.
    private static bool TryReadNumber(ref ReadOnlySpan<byte> text, ReadOnlySpan<byte> name, out long value)
    {
        value = 0;
        var at = text.IndexOf(name);
        if (at < 0)
        {
            return false;
        }
        text = text[(at + name.Length)..];
        var digits = text.IndexOfAnyInRange((byte)'0', (byte)'9');
        if (digits < 0 || !Utf8Parser.TryParse(text[digits..], out value, out var length))
        {
            return false;
        }
        text = text[(digits + length)..];
        return true;
    }
}

using System.Globalization;
using ServerEvents.History;
using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// One read of Redis's history streams (<see cref="EventScripts.ReadHistory"/>) after a given event id, from which
/// the replay of any subset of the targets read is cut: one read serves every connection that needs the same targets.
/// </summary>
internal sealed class StoredHistory
{
    private readonly Dictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private long? _unknownThrough;
    private long _young;

    /// <param name="after">The id the read starts after.</param>
    public StoredHistory(long after) => After = after;

    /// <summary>The id the read started after.</summary>
    public long After { get; }

    /// <summary>The highest id Redis had issued when it was read: every later event is delivered live.</summary>
    public long Current { get; private set; }

    /// <summary>Adds the script's reply for <paramref name="targets"/> (read in batches, each its own reply).</summary>
    public void Add(RedisResult reply, IReadOnlyList<string> targets, Func<ReadOnlyMemory<byte>, ServerEvent?> parseEvent)
    {
        var parts = (RedisResult[])reply!;
        var floor = Number(parts[0]);
        var current = Number(parts[1]);
        // Ids before the floor are from before the counter (and every history) started; ids above the counter were
        // never issued by it (Redis lost its data since): nothing is known of what followed them.
        if (After > current)
        {
            _unknownThrough = Math.Max(_unknownThrough ?? 0, current);
        }
        else if (After + 1 < floor)
        {
            _unknownThrough = Math.Max(_unknownThrough ?? 0, floor - 1);
        }
        Current = Math.Max(Current, current);
        _young = Math.Max(_young, Number(parts[2]));
        for (var i = 0; i < targets.Count; i++)
        {
            var at = 3 + (i * 3);
            var events = new List<ServerEvent>();
            foreach (var message in (RedisResult[])parts[at + 2]!)
            {
                if (parseEvent((byte[])message!) is { } serverEvent)
                {
                    events.Add(serverEvent);
                }
            }
            _streams[targets[i]] = new Stream(Number(parts[at]) == 1, Number(parts[at + 1]), events);
        }
    }

    /// <summary>
    /// Events of <paramref name="targets"/> (all among those read) after <see cref="After"/>, in id order, each once;
    /// where the history no longer reaches back that far, a reset through the highest id that may be lost.
    /// </summary>
    public Replay For(IEnumerable<string> targets)
    {
        var events = new List<ServerEvent>();
        // Redis lost its data since (the floor is where the new counter started): what came before is unknown.
        long? through = _unknownThrough;
        foreach (var target in targets)
        {
            var stream = _streams[target];
            // A trimmed stream may have dropped events after the client's id; a missing one may have expired with
            // everything older than the age cap, which matters only to a client whose id is older than that.
            var keptFrom = stream.Exists ? stream.TrimmedBelow : _young;
            if (After + 1 < keptFrom)
            {
                through = Math.Max(through ?? 0, keptFrom - 1);
            }
            events.AddRange(stream.Events);
        }
        return Replay.Of(events, through);
    }

    private static long Number(RedisResult value) =>
        long.TryParse(value.ToString(), CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"The history script returned '{value}' where a number was expected.");

    private sealed record Stream(bool Exists, long TrimmedBelow, List<ServerEvent> Events);
}

namespace ServerEvents.LoadDriver;

/// <summary>A scenario and the report section it belongs to.</summary>
public sealed record SuiteEntry(string Section, Scenario Scenario);

/// <summary>
/// The two suites. Quick (a few minutes) covers every section at small sizes; full is the matrix:
/// 300 / 1,000 / 3,000 subscribers, three Redis servers against one memory server, hub against SSE, small
/// channels and user targets, and 10,000 idle connections over three servers.
/// </summary>
public static class Suites
{
    public const string MaxRate = "Broadcast at max rate";
    public const string FixedRate = "Broadcast at a fixed load";
    public const string Transports = "Hub (WebSocket) and SSE subscribers";
    public const string Targeted = "Small channels and user-targeted notifies";
    public const string Idle = "Idle connections";

    public static IReadOnlyList<SuiteEntry> Quick { get; } =
    [
        .. MaxRateRuns([300, 1000], messages: n => n <= 300 ? 2000 : 1000),
        .. FixedRateRuns([300, 1000], seconds: 6),
        new(Transports, new("broadcast", "memory", 1, "sse", 300, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 1200, 200)),
        .. TargetedRuns(300),
        new(Idle, new("broadcast", "redis", 3, "hub", 1500, 20, 10)),
        new(Idle, new("broadcast", "redis", 3, "sse", 1500, 20, 10)),
    ];

    public static IReadOnlyList<SuiteEntry> Full { get; } =
    [
        .. MaxRateRuns([300, 1000, 3000], messages: n => n switch { <= 300 => 5000, <= 1000 => 2000, _ => 600 }),
        .. FixedRateRuns([300, 1000, 3000], seconds: 15),
        new(Transports, new("broadcast", "memory", 1, "sse", 1000, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 1000, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 3000, 200)),
        .. TargetedRuns(1000),
        new(Idle, new("broadcast", "redis", 3, "hub", 10_000, 30, 10)),
        new(Idle, new("broadcast", "redis", 3, "sse", 10_000, 30, 10)),
    ];

    private static IEnumerable<SuiteEntry> MaxRateRuns(int[] counts, Func<int, int> messages) =>
        counts.SelectMany(n => new SuiteEntry[]
        {
            new(MaxRate, new("broadcast", "memory", 1, "hub", n, messages(n), 0)),
            new(MaxRate, new("broadcast", "redis", 3, "hub", n, messages(n), 0)),
        });

    // The same delivery load at every size — 60,000 deliveries/s, i.e. 200 msg/s to 300 subscribers — so that
    // the latency curve shows the cost of fan-out width, not of overload.
    private static IEnumerable<SuiteEntry> FixedRateRuns(int[] counts, int seconds) =>
        counts.SelectMany(n =>
        {
            var rate = Math.Round(60_000.0 / n);
            var runs = new List<SuiteEntry> { new(FixedRate, new("broadcast", "redis", 3, "hub", n, (int)(rate * seconds), rate)) };
            if (n == counts[0])
            {
                runs.Insert(0, new(FixedRate, new("broadcast", "memory", 1, "hub", n, (int)(rate * seconds), rate)));
            }
            return runs;
        });

    private static IEnumerable<SuiteEntry> TargetedRuns(int subscribers) =>
    [
        new(Targeted, new("channels", "memory", 1, "hub", subscribers, subscribers / Scenario.ChannelSize * 200, 0)),
        new(Targeted, new("channels", "redis", 3, "hub", subscribers, subscribers / Scenario.ChannelSize * 200, 0)),
        new(Targeted, new("users", "memory", 1, "hub", subscribers, subscribers * 50, 0)),
        new(Targeted, new("users", "redis", 3, "hub", subscribers, subscribers * 50, 0)),
        new(Targeted, new("users", "redis", 3, "sse", subscribers, subscribers * 50, 0)),
    ];
}

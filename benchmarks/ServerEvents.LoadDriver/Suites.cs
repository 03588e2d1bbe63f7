namespace ServerEvents.LoadDriver;

/// <summary>A scenario, the report section it belongs to, and how many runs its figures are the median of.</summary>
public sealed record SuiteEntry(string Section, Scenario Scenario, int Runs = 1);

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
    public const string History = "History on and off";
    public const string Cluster = "Redis Cluster";
    public const string Peers = "Against the alternatives";

    public static IReadOnlyList<SuiteEntry> Quick { get; } =
    [
        .. MaxRateRuns([300, 1000], messages: n => n <= 300 ? 2000 : 1000),
        .. FixedRateRuns([300, 1000], seconds: 6),
        new(Transports, new("broadcast", "memory", 1, "sse", 300, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 2000, 0)),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 1200, 200)),
        .. TargetedRuns(300),
        .. HistoryRuns(300, maxRateMessages: 2000, fixedRateMessages: 1200, runs: 1),
        .. IdleRuns(1500, 20),
        .. ClusterRuns(300, maxRateMessages: 2000, fixedRateMessages: 1200, runs: 1),
        .. PeerRuns(maxRateMessages: 2000, fixedRateMessages: 1200, targeted: 300, runs: 1),
    ];

    public static IReadOnlyList<SuiteEntry> Full { get; } =
    [
        .. MaxRateRuns([300, 1000, 3000], messages: n => n switch { <= 300 => 5000, <= 1000 => 2000, _ => 600 }, runs: 3),
        .. FixedRateRuns([300, 1000, 3000], seconds: 15),
        new(Transports, new("broadcast", "memory", 1, "sse", 1000, 2000, 0), Runs: 3),
        new(Transports, new("broadcast", "redis", 3, "sse", 1000, 2000, 0), Runs: 3),
        new(Transports, new("broadcast", "redis", 3, "sse", 300, 3000, 200)),
        .. TargetedRuns(1000),
        .. HistoryRuns(300, maxRateMessages: 5000, fixedRateMessages: 3000, runs: 3),
        .. IdleRuns(10_000, 20),
        .. ClusterRuns(1000, maxRateMessages: 2000, fixedRateMessages: 900, runs: 3),
        // The full suite's other sections have no SSE run at max rate to 300.
        new(Peers, new("broadcast", "redis", 3, "sse", 300, 5000, 0), Runs: 3),
        .. PeerRuns(maxRateMessages: 5000, fixedRateMessages: 3000, targeted: 1000, runs: 3),
    ];

    /// <summary>What a reader of each section should know about how its rows were taken.</summary>
    public static IReadOnlyDictionary<string, string> Notes { get; } = new Dictionary<string, string>
    {
        [MaxRate] = "One publisher with up to 64 notifies in flight, every subscriber in one channel. At max rate this machine's figures move by "
            + "±30 % from run to run, so in full mode each row is the median run (by delivered/s) of three.",
        [FixedRate] = "The same delivery load at every size — 60,000 deliveries/s, i.e. 200 msg/s to 300 subscribers — so that the curve "
            + "shows the cost of fan-out width rather than of overload.",
        [Transports] = "The same broadcast to SSE subscribers of the bridge (`/event-stream`), read as EventSource reads them.",
        [Targeted] = "`channels`: channels of 10 members, notifies round-robin over them (10 deliveries per notify). `users`: one user id "
            + "per subscriber, `NotifyUserId` round-robin (1 delivery per notify), the per-notify cost laid bare.",
        [History] = "The same runs with the event history (`HistoryPerTarget`, 1,000 by default, and `HistoryMaxAge`, 1 hour) switched off "
            + "(`HistoryPerTarget = 0`): what keeping every event resumable costs. On Redis the history is written by the publish script "
            + "itself (`XADD` to the target's stream, trimmed by count and age), so it adds commands inside the same round trip, not round trips.",
        [Cluster] = "The same three servers on a local Redis Cluster of three masters (no replicas) instead of one redis-server: every key "
            + "of one prefix shares a hash tag, so the whole event path runs on the one master that holds that slot; Redis CPU is summed over the masters.",
        [Peers] = "What a team would run instead, through the same driver, scenarios and figures, on the same three servers and one "
            + "redis-server: `microsoft` is a plain SignalR hub (`Clients.Group(g)` / `Clients.User(u)`) on Microsoft's Redis backplane "
            + "(`AddStackExchangeRedis`), sending the same envelope; `socketio` is Socket.IO 4.8 on Node with `@socket.io/redis-adapter` 8.3, "
            + "emitting to rooms. Ours is the hub and SSE rows of the other sections with the same scenario; the ratios are in the table below this one.",
        [Idle] = "Connections measured for memory (live managed heap after full collections, and RSS, between a warm-up batch and all "
            + "connections), then a few notifies at 2/s prove that every connection is live. `signalr` is a bare SignalR hub on the "
            + "same server — no Server Events — as the reference for what SignalR and Kestrel cost per connection.",
    };

    private static IEnumerable<SuiteEntry> MaxRateRuns(int[] counts, Func<int, int> messages, int runs = 1) =>
        counts.SelectMany(n => new SuiteEntry[]
        {
            new(MaxRate, new("broadcast", "memory", 1, "hub", n, messages(n), 0), runs),
            new(MaxRate, new("broadcast", "redis", 3, "hub", n, messages(n), 0), runs),
        });

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

    // 2 notifies/s: 20,000 deliveries/s at 10,000 connections, well inside capacity.
    private static IEnumerable<SuiteEntry> IdleRuns(int connections, int notifies) =>
    [
        new(Idle, new("broadcast", "memory", 1, "signalr", connections, 1, 0)),
        new(Idle, new("broadcast", "memory", 1, "hub", connections, notifies, 2)),
        new(Idle, new("broadcast", "memory", 1, "sse", connections, notifies, 2)),
        new(Idle, new("broadcast", "redis", 3, "hub", connections, notifies, 2)),
        new(Idle, new("broadcast", "redis", 3, "sse", connections, notifies, 2)),
    ];

    private static IEnumerable<SuiteEntry> HistoryRuns(int subscribers, int maxRateMessages, int fixedRateMessages, int runs) =>
        new[] { true, false }.SelectMany(history => new SuiteEntry[]
        {
            new(History, new("broadcast", "memory", 1, "hub", subscribers, maxRateMessages, 0, History: history), runs),
            new(History, new("broadcast", "redis", 3, "hub", subscribers, maxRateMessages, 0, History: history), runs),
            new(History, new("broadcast", "redis", 3, "hub", subscribers, fixedRateMessages, 200, History: history)),
        });

    private static IEnumerable<SuiteEntry> ClusterRuns(int subscribers, int maxRateMessages, int fixedRateMessages, int runs) =>
    [
        new(Cluster, new("broadcast", "redis", 3, "hub", subscribers, maxRateMessages, 0), runs),
        new(Cluster, new("broadcast", "cluster", 3, "hub", subscribers, maxRateMessages, 0), runs),
        new(Cluster, new("broadcast", "cluster", 3, "hub", 300, fixedRateMessages, 200)),
        new(Cluster, new("users", "cluster", 3, "hub", 300, 300 * 50, 0)),
    ];

    // The peers in each scenario whose hub and SSE rows other sections run: broadcast at max rate and at 200 msg/s to 300
    // subscribers, channels of 10 and user-targeted notifies, all on three servers and one redis-server.
    private static IEnumerable<SuiteEntry> PeerRuns(int maxRateMessages, int fixedRateMessages, int targeted, int runs) =>
        new[] { "microsoft", "socketio" }.SelectMany(peer => new SuiteEntry[]
        {
            new(Peers, new("broadcast", "redis", 3, peer, 300, maxRateMessages, 0), runs),
            new(Peers, new("broadcast", "redis", 3, peer, 300, fixedRateMessages, 200)),
            new(Peers, new("channels", "redis", 3, peer, targeted, targeted / Scenario.ChannelSize * 200, 0)),
            new(Peers, new("users", "redis", 3, peer, targeted, targeted * 50, 0)),
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

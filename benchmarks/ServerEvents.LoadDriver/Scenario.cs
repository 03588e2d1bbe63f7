using System.Globalization;

namespace ServerEvents.LoadDriver;

/// <summary>
/// One benchmark run. <see cref="Kind"/>: <c>broadcast</c> (every subscriber in one channel), <c>channels</c>
/// (channels of 10 members, notifies round-robin over them) or <c>users</c> (one user id per subscriber,
/// notifies round-robin over the users). <see cref="Messages"/> notifies in all, at <see cref="Rate"/> per second
/// or, at 0, as fast as <see cref="Window"/> notifies in flight allow (refilled by halves). Subscribers are spread round-robin over
/// the servers; the publisher runs inside server 0.
/// </summary>
public sealed record Scenario(string Kind, string Backend, int Servers, string Transport, int Subscribers, int Messages, double Rate, int Window = 64, int PayloadBytes = 64, bool History = true)
{
    public const int ChannelSize = 10;

    /// <summary>How many channels or users the notifies go round.</summary>
    public int Targets => Kind switch
    {
        "broadcast" => 1,
        "channels" => Math.Max(1, Subscribers / ChannelSize),
        "users" => Subscribers,
        _ => throw new ArgumentException($"Unknown scenario kind '{Kind}' (broadcast, channels or users)."),
    };

    /// <summary>Notifies each subscriber must receive.</summary>
    public int PerSubscriber => Messages / Targets;

    /// <summary>Target (channel or user number) of subscriber <paramref name="index"/>.</summary>
    public int TargetOf(int index) => index % Targets;

    /// <summary>Channel and user query of subscriber <paramref name="index"/> (same for /hub and /event-stream).</summary>
    public string QueryOf(int index) => Kind switch
    {
        "users" => $"channels=lobby&user=u{TargetOf(index)}",
        "channels" => $"channels=room{TargetOf(index)}",
        _ => "channels=bench0",
    };

    /// <summary>Publisher parameters: channels are named room0…, bench0; users u0….</summary>
    public (string Kind, string Prefix) PublishTarget => Kind switch
    {
        "users" => ("user", "u"),
        "channels" => ("channel", "room"),
        _ => ("channel", "bench"),
    };

    /// <summary>A bare SignalR hub without Server Events: the reference for memory per connection; nothing is published.</summary>
    public bool IsReference => Transport == "signalr";

    /// <summary>
    /// What a team would run instead, measured by the same driver: <c>microsoft</c> (a plain SignalR hub, on Microsoft's
    /// Redis backplane when the back-end is Redis) or <c>socketio</c> (Socket.IO 4, with @socket.io/redis-adapter on Redis).
    /// </summary>
    public bool IsPeer => Transport is "microsoft" or "socketio";

    public string RateText => Rate > 0 ? Rate.ToString("0", CultureInfo.InvariantCulture) + "/s" : "max";

    public override string ToString() =>
        $"{Kind} {Backend}/{Servers} {Transport} {Subscribers} subscribers, {Messages} notifies at {RateText}{(History ? "" : ", history off")}";

    /// <summary>
    /// Parses <c>kind,backend,servers,transport,subscribers,messages,rate[,nohistory]</c>, e.g. <c>broadcast,redis,3,hub,300,2000,200</c>.
    /// </summary>
    public static Scenario Parse(string text)
    {
        var p = text.Split(',', StringSplitOptions.TrimEntries);
        var history = p.Length != 8 || p[7] != "nohistory";
        if (p.Length == 8 && history)
        {
            throw new FormatException($"'{p[7]}': the optional eighth field can only be nohistory (servers keep no event history).");
        }
        if (p.Length is not (7 or 8) || p[1] is not ("memory" or "redis" or "cluster") || p[3] is not ("hub" or "sse" or "signalr" or "microsoft" or "socketio")
            || !int.TryParse(p[2], CultureInfo.InvariantCulture, out var servers) || servers < 1
            || !int.TryParse(p[4], CultureInfo.InvariantCulture, out var subscribers) || subscribers < 1
            || !int.TryParse(p[5], CultureInfo.InvariantCulture, out var messages) || messages < 1
            || !double.TryParse(p[6], CultureInfo.InvariantCulture, out var rate) || rate < 0)
        {
            throw new FormatException($"'{text}' is not kind,backend,servers,transport,subscribers,messages,rate "
                + "[,nohistory] (e.g. broadcast,redis,3,hub,300,2000,200; kind broadcast|channels|users, backend memory|redis|cluster (a Redis Cluster of 3 masters), transport hub|sse|signalr|microsoft|socketio, rate 0 = max; "
                + "signalr = a bare SignalR hub, connections and memory only; microsoft = a plain hub on Microsoft's Redis backplane; socketio = Socket.IO 4 with its Redis adapter).");
        }
        if (p[3] is "microsoft" or "socketio" && p[1] == "cluster")
        {
            throw new FormatException($"The {p[3]} peer runs on one redis-server (redis) or alone (memory), not on a Redis Cluster.");
        }
        if (p[1] == "memory" && servers != 1)
        {
            throw new FormatException("The memory back-end serves one server; use redis or cluster for several.");
        }
        if (p[0] is not ("broadcast" or "channels" or "users"))
        {
            throw new FormatException($"Unknown scenario kind '{p[0]}' (broadcast, channels or users).");
        }
        var scenario = new Scenario(p[0], p[1], servers, p[3], subscribers, messages, rate, History: history);
        if (scenario.PerSubscriber < 1)
        {
            throw new FormatException($"{messages} notifies do not reach each of the {scenario.Targets} {p[0]} once; send at least {scenario.Targets}.");
        }
        return scenario;
    }
}

/// <summary>The measured outcome of a <see cref="Scenario"/>.</summary>
public sealed record Result(
    Scenario Scenario,
    double DeliveredPerSecond,
    double P50,
    double P90,
    double P99,
    double Max,
    long Delivered,
    long Lost,
    long Duplicates,
    long OutOfOrder,
    int PublishFailures,
    double ServerCpuMicrosPerDelivery,
    double ServerAllocatedBytesPerDelivery,
    double ServerJitPercent,
    double DriverCpuMicrosPerDelivery,
    double? RedisCpuMicrosPerNotify,
    double MachineBusyPercent,
    double? RedisCommandsPerNotify,
    double? RedisEvalshaPerNotify,
    double ServerWorkingSetMB,
    double ManagedBytesPerConnection,
    double WorkingSetBytesPerConnection,
    double ElapsedSeconds,
    IReadOnlyList<string> Problems)
{
    /// <summary>A run that only connected (a <see cref="Scenario.IsReference"/> hub) and measured memory.</summary>
    public static Result MemoryOnly(Scenario scenario, double serverWorkingSetMB, double managedPerConnection, double workingSetPerConnection, IReadOnlyList<string> problems) =>
        new(scenario, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, 0, 0, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, null, double.NaN, null, null,
            serverWorkingSetMB, managedPerConnection, workingSetPerConnection, double.NaN, problems);

    /// <summary>Every message reached every subscriber exactly once, in order.</summary>
    public bool Exact => Lost == 0 && Duplicates == 0 && OutOfOrder == 0 && PublishFailures == 0 && Problems.Count == 0;
}

// Load driver: starts real app servers (benchmarks/ServerEvents.BenchHost, one process each) and a real
// redis-server, connects hub or SSE subscribers over loopback, publishes from server 0 and measures what
// every subscriber received. Each scenario is bounded in time. Usage:
//   dotnet run -c Release --project benchmarks/ServerEvents.LoadDriver -- [--quick | --full]
//   … -- --run backend,servers,transport,subscribers,messages,rate   (one custom scenario, e.g. redis,3,hub,300,1000,200)
using System.Globalization;
using ServerEvents.LoadDriver;

var full = args.Contains("--full");
var custom = Array.IndexOf(args, "--run") is var at and >= 0 && at + 1 < args.Length ? args[at + 1].Split(',') : null;
Scenario[] scenarios = custom is not null
    ? [new Scenario("custom", custom[0], int.Parse(custom[1], CultureInfo.InvariantCulture), custom[2], int.Parse(custom[3], CultureInfo.InvariantCulture), int.Parse(custom[4], CultureInfo.InvariantCulture), double.Parse(custom[5], CultureInfo.InvariantCulture))]
    : full
    ?
    [
        .. new[] { 300, 1000, 3000 }.SelectMany(n => new[]
        {
            new Scenario($"broadcast, max rate", "memory", 1, "hub", n, 5000, 0),
            new Scenario($"broadcast, max rate", "redis", 3, "hub", n, 5000, 0),
        }),
        new Scenario("broadcast, 200 msg/s", "redis", 3, "hub", 300, 2000, 200),
        new Scenario("broadcast, max rate", "memory", 1, "sse", 1000, 5000, 0),
        new Scenario("broadcast, max rate", "redis", 3, "sse", 1000, 5000, 0),
    ]
    :
    [
        new Scenario("broadcast, max rate", "memory", 1, "hub", 300, 2000, 0),
        new Scenario("broadcast, max rate", "redis", 3, "hub", 300, 2000, 0),
        new Scenario("broadcast, 200 msg/s", "redis", 3, "hub", 300, 1000, 200),
        new Scenario("broadcast, max rate", "memory", 1, "sse", 300, 2000, 0),
    ];

Console.WriteLine($"| scenario | back-end | servers | transport | subscribers | msgs | delivered/s | p50 ms | p90 ms | p99 ms | max ms | lost | dup | out of order | server CPU µs/delivery | Redis cmds/notify |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
var failed = false;
foreach (var scenario in scenarios)
{
    Console.Error.WriteLine($"running: {scenario}");
    var r = await ScenarioRunner.RunAsync(scenario, Console.Error);
    failed |= r.Lost != 0 || r.Duplicates != 0;
    string F(double v, string format = "0.0") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);
    Console.WriteLine($"| {scenario.Name} | {scenario.Backend} | {scenario.Servers} | {scenario.Transport} | {scenario.Subscribers} | {scenario.Messages} | {F(r.DeliveredPerSecond, "0")} | {F(r.P50)} | {F(r.P90)} | {F(r.P99)} | {F(r.Max)} | {r.Lost} | {r.Duplicates} | {r.OutOfOrder} | {F(r.ServerCpuMicrosPerDelivery)} | {(r.RedisCommandsPerNotify is { } c ? F(c, "0.00") : "–")} |");
}
return failed ? 1 : 0;

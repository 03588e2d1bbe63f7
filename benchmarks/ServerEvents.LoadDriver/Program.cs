// Load driver: starts real app servers (benchmarks/ServerEvents.BenchHost, one process each) and a real
// redis-server, connects hub or SSE subscribers over loopback, publishes from server 0 and measures what
// every subscriber received. Every phase of every scenario is bounded in time. Usage:
//   dotnet run -c Release --project benchmarks/ServerEvents.LoadDriver -- [--quick | --full] [--report]
//   … -- --run kind,backend,servers,transport,subscribers,messages,rate [--run …]   (e.g. broadcast,redis,3,hub,300,2000,200)
// --chat measures ChatHub's chat route alone (memory and Redis; the quick and full suites include it); --chat-posts N
// sets its POSTs per round (default 4,000).
// --warm-up-rounds N caps the warm-up rounds (default 12; they stop earlier once the servers' JIT is quiet).
// --report writes docs/benchmarks.md, docs/benchmarks.json and docs/images/benchmarks.svg from the run.
// SERVEREVENTS_BENCH_HOST=/path/to/ServerEvents.BenchHost.dll runs another build of the bench host (before/after a change).
// Exit code: 0 when every message reached every subscriber exactly once and in order, 1 otherwise, 2 on bad arguments.
using ServerEvents.LoadDriver;
using ServerEvents.Tests.Fixtures;

List<SuiteEntry> entries;
string mode;
var warmUpRounds = ScenarioRunner.DefaultWarmUpRounds;
var chatPosts = 4000;
try
{
    var runs = args.Select((a, i) => (a, i)).Where(p => p.a == "--run").Select(p => p.i + 1 < args.Length ? args[p.i + 1] : "").ToList();
    var unknown = args.Where((a, i) => a.StartsWith("--", StringComparison.Ordinal) && a is not ("--run" or "--quick" or "--full" or "--report" or "--warm-up-rounds" or "--chat" or "--chat-posts")).ToList();
    if (unknown.Count > 0)
    {
        throw new FormatException($"Unknown option {unknown[0]} (use --quick, --full, --run <scenario>, --chat, --warm-up-rounds <n>, --report).");
    }
    if (Array.IndexOf(args, "--warm-up-rounds") is var at and >= 0)
    {
        warmUpRounds = at + 1 < args.Length && int.TryParse(args[at + 1], out var n) && n >= 1
            ? n
            : throw new FormatException("--warm-up-rounds takes a whole number of at least 1.");
    }
    if (Array.IndexOf(args, "--chat-posts") is var posts and >= 0)
    {
        chatPosts = posts + 1 < args.Length && int.TryParse(args[posts + 1], out var n) && n >= 1
            ? n
            : throw new FormatException("--chat-posts takes a whole number of at least 1.");
    }
    var custom = runs.Count > 0 || args.Contains("--chat");
    entries = custom
        ? [.. runs.Select(r => new SuiteEntry("Custom runs", Scenario.Parse(r)))]
        : args.Contains("--full") ? [.. Suites.Full] : [.. Suites.Quick];
    mode = custom ? "custom" : args.Contains("--full") ? "full" : "quick";
}
catch (FormatException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

var results = new List<(string Section, Result Result)>();
if (entries.Count > 0)
{
    Console.WriteLine(ResultTable.Header);
}
for (var i = 0; i < entries.Count; i++)
{
    var (section, scenario, runs) = entries[i];
    var attempts = new List<Result>();
    for (var run = 1; run <= runs; run++)
    {
        Console.Error.WriteLine($"[{i + 1}/{entries.Count}] {scenario}{(runs > 1 ? $" (run {run} of {runs})" : "")}");
        attempts.Add(await ScenarioRunner.RunAsync(scenario, Console.Error, warmUpRounds));
    }
    // The median run by throughput; a run that lost or duplicated anything is reported whatever its speed.
    var result = attempts.FirstOrDefault(a => !a.Exact) ?? attempts.OrderBy(a => a.DeliveredPerSecond).ElementAt(attempts.Count / 2);
    results.Add((section, result));
    Console.WriteLine(ResultTable.Row(result));
    foreach (var problem in result.Problems)
    {
        Console.Error.WriteLine("  problem: " + problem);
    }
}

var chat = new List<ChatPostResult>();
if (mode != "custom" || args.Contains("--chat"))
{
    Console.WriteLine();
    Console.WriteLine(ChatPostTable.Header);
    foreach (var backend in new[] { "memory", "redis" })
    {
        Console.Error.WriteLine($"ChatHub chat route, {backend}");
        var result = await ChatPostBench.RunAsync(backend, chatPosts, concurrency: 8, Console.Error);
        chat.Add(result);
        Console.WriteLine(ChatPostTable.Row(result));
        foreach (var problem in result.Problems)
        {
            Console.Error.WriteLine("  problem: " + problem);
        }
    }
}

if (args.Contains("--report"))
{
    var docs = Path.Combine(RepoPaths.Root, "docs");
    await Report.WriteAsync(docs, mode, string.Join(' ', args), results, chat);
    Console.Error.WriteLine($"report written to {Path.Combine(docs, "benchmarks.md")}");
}
return results.All(r => r.Result.Exact) && chat.All(c => c.Exact) ? 0 : 1;

using System.Diagnostics;
using System.Globalization;

namespace ServerEvents.LoadDriver;

/// <summary>
/// Runs one <see cref="Scenario"/> from start to finish, each phase under its own time bound: start the servers,
/// connect the subscribers (server memory measured around it), probe until every subscriber is reachable through
/// its group on every server, publish, wait for the last delivery, tally.
/// </summary>
public static class ScenarioRunner
{
    private static readonly TimeSpan ConnectBound = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ProbeBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromSeconds(10);
    // A round is as long as the measured run, up to a million deliveries: short rounds left tier-1 compiles that only
    // sustained load brings on (600 methods, 1.4 s of JIT in a 4.3 s window) for the measurement.
    private const int WarmUpDeliveries = 1_000_000;
    private const int QuietJitMethodsPerServer = 40;
    private const int QuietRoundsNeeded = 2;
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromSeconds(1);

    /// <summary>Warm-up rounds at most, unless the driver is told otherwise.</summary>
    public const int DefaultWarmUpRounds = 12;

    public static async Task<Result> RunAsync(Scenario scenario, TextWriter progress, int maxWarmUpRounds = DefaultWarmUpRounds)
    {
        var problems = new List<string>();
        await using var cluster = await BenchCluster.StartAsync(scenario.Backend, scenario.Servers, scenario.History, scenario.Transport);
        var subscribers = new List<BenchSubscriber>();
        using var stopKeepAlive = new CancellationTokenSource();
        using var pingNow = new SemaphoreSlim(0);
        var keepAlive = Task.CompletedTask;
        try
        {
            // A first few connections warm up every code path, so the memory baseline excludes JIT and pools.
            var warm = Math.Min(scenario.Subscribers, Math.Max(scenario.Servers * 5, scenario.Subscribers / 100));
            await ConnectAsync(scenario, cluster, subscribers, 0, warm, progress);
            var baseline = await cluster.StatsAsync(memory: true);
            await ConnectAsync(scenario, cluster, subscribers, warm, scenario.Subscribers, progress);
            var connected = await cluster.StatsAsync(memory: true);
            var added = Math.Max(1, scenario.Subscribers - warm);
            var managedPerConnection = (connected.Sum(s => s.GcHeapBytes) - baseline.Sum(s => s.GcHeapBytes)) / (double)added;
            var workingSetPerConnection = (connected.Sum(s => s.WorkingSetBytes) - baseline.Sum(s => s.WorkingSetBytes)) / (double)added;
            if (scenario.IsReference)
            {
                return Result.MemoryOnly(scenario, connected.Sum(s => s.WorkingSetBytes) / 1048576.0, managedPerConnection, workingSetPerConnection, problems);
            }
            keepAlive = KeepAliveAsync(subscribers, pingNow, stopKeepAlive.Token);

            await ProbeAsync(scenario, cluster, subscribers, progress, problems);
            await WarmUpAsync(scenario, cluster, pingNow, progress, maxWarmUpRounds);

            var count = scenario.PerSubscriber * scenario.Targets;
            await cluster.ResetRedisStatsAsync();
            var cpuBefore = await cluster.StatsAsync();
            var redisCpuBefore = await cluster.RedisCpuMsAsync();
            var driverCpuBefore = MachineCpu.DriverMs();
            var busyBefore = MachineCpu.Read();
            var started = Stopwatch.GetTimestamp();
            progress.WriteLine($"  publishing {count} notifies at {scenario.RateText}");
            var failures = await cluster.PublishAsync(scenario, count, "cmd.bench", scenario.Rate);
            var deadline = DateTime.UtcNow + DeliveryBound(scenario);
            while (!subscribers.All(s => s.Tally.Complete) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            var busy = MachineCpu.BusyPercentSince(busyBefore);
            var driverCpu = MachineCpu.DriverMs() - driverCpuBefore;
            var cpuAfter = await cluster.StatsAsync();
            var redisCpu = await cluster.RedisCpuMsAsync() - redisCpuBefore;
            var commands = await cluster.RedisCommandsAsync();
            progress.WriteLine("  measured window: " + Between(cpuBefore, cpuAfter) + WorkItemsPerNotify(cpuBefore, cpuAfter, count));
            // Per server: server 0 also runs the publisher, so its share against the others' hints at what publishing costs.
            for (var h = 0; h < cpuAfter.Count; h++)
            {
                progress.WriteLine($"    server {h}: " + Between([cpuBefore[h]], [cpuAfter[h]]) + WorkItemsPerNotify([cpuBefore[h]], [cpuAfter[h]], count));
            }

            await stopKeepAlive.CancelAsync();
            await keepAlive;
            var tallies = subscribers.Select(s => s.Tally).ToList();
            await DisposeAllAsync(subscribers); // the read loops stop before their tallies are read
            var lastAt = tallies.Max(t => t.LastReceivedAt);
            var elapsed = lastAt > started ? Stopwatch.GetElapsedTime(started, lastAt).TotalSeconds : double.NaN;
            var latencies = new float[tallies.Sum(t => t.LatenciesMs.Count)];
            var filled = 0;
            foreach (var tally in tallies)
            {
                foreach (var latency in tally.LatenciesMs)
                {
                    latencies[filled++] = latency;
                }
            }
            Array.Sort(latencies);
            long delivered = latencies.Length;
            var closed = tallies.Where(t => t.Closed is not null).ToList();
            if (closed.Count > 0)
            {
                problems.Add($"{closed.Count} connections closed by the server (first: {closed[0].Closed})");
            }
            if (tallies.Sum(t => t.Strays) is var strays and > 0)
            {
                problems.Add($"{strays} messages reached a subscriber they were not sent to");
            }
            var expected = (long)count / scenario.Targets * scenario.Subscribers;
            if (delivered < expected || failures > 0)
            {
                // What the servers said is the first clue to a loss (a gap back-filled or reset, a refused notify).
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{expected - delivered} deliveries missing, {failures} notifies failed to publish"));
                for (var h = 0; h < cluster.Hosts.Count; h++)
                {
                    var lines = cluster.Hosts[h].Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    progress.WriteLine($"  server {h} said ({lines.Length} lines, the last 30):");
                    foreach (var line in lines.TakeLast(30))
                    {
                        progress.WriteLine("    " + line);
                    }
                }
            }
            return new Result(scenario,
                DeliveredPerSecond: delivered / elapsed,
                P50: Percentiles.Of(latencies, 0.50), P90: Percentiles.Of(latencies, 0.90), P99: Percentiles.Of(latencies, 0.99),
                Max: latencies.Length == 0 ? double.NaN : latencies[^1],
                Delivered: delivered,
                Lost: ((long)count / scenario.Targets * scenario.Subscribers) - delivered,
                Duplicates: tallies.Sum(t => (long)t.Duplicates),
                OutOfOrder: tallies.Sum(t => (long)t.OutOfOrder),
                PublishFailures: failures,
                ServerCpuMicrosPerDelivery: delivered == 0 ? double.NaN : (cpuAfter.Sum(s => s.CpuMs) - cpuBefore.Sum(s => s.CpuMs)) * 1000 / delivered,
                ServerAllocatedBytesPerDelivery: delivered == 0 ? double.NaN : (cpuAfter.Sum(s => s.AllocatedBytes) - cpuBefore.Sum(s => s.AllocatedBytes)) / (double)delivered,
                ServerJitPercent: 100 * (cpuAfter.Sum(s => s.JitMs) - cpuBefore.Sum(s => s.JitMs)) / (cpuAfter.Sum(s => s.CpuMs) - cpuBefore.Sum(s => s.CpuMs)),
                DriverCpuMicrosPerDelivery: delivered == 0 ? double.NaN : driverCpu * 1000 / delivered,
                RedisCpuMicrosPerNotify: redisCpu * 1000 / count,
                MachineBusyPercent: busy,
                RedisCommandsPerNotify: commands?.Values.Sum() / (double)count,
                RedisEvalshaPerNotify: commands is null ? null : commands.GetValueOrDefault("evalsha") / (double)count,
                ServerWorkingSetMB: connected.Sum(s => s.WorkingSetBytes) / 1048576.0,
                ManagedBytesPerConnection: managedPerConnection,
                WorkingSetBytesPerConnection: workingSetPerConnection,
                ElapsedSeconds: elapsed,
                Problems: problems);
        }
        finally
        {
            await stopKeepAlive.CancelAsync();
            await keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await DisposeAllAsync(subscribers);
        }
    }

    /// <summary>
    /// Publishes at full speed, ignored by the tallies, round after round until the servers' JIT has been nearly quiet for
    /// two rounds (tiering works in stages, with lulls between them): tiered
    /// compilation recompiles hot methods in the background for seconds after they first run (a fixed warm-up left it at
    /// 20–35 % of the servers' CPU in the measured window), and a production server is measured long after that.
    /// </summary>
    private static async Task WarmUpAsync(Scenario scenario, BenchCluster cluster, SemaphoreSlim pingNow, TextWriter progress, int maxRounds)
    {
        var quietRounds = 0;
        var notifies = Math.Max(scenario.Targets, Math.Min(scenario.PerSubscriber * scenario.Targets, (int)Math.Min(int.MaxValue, (long)WarmUpDeliveries * scenario.Targets / scenario.Subscribers)));
        var before = await cluster.StatsAsync();
        for (var round = 1; ; round++)
        {
            await cluster.PublishAsync(scenario, notifies, "cmd.probe", rate: 0);
            // A ping from every subscriber each round: the servers' receive path otherwise runs only every 10 s, and its
            // tier-1 compiles came in bursts of 330–860 methods (0.3–1.2 s of JIT) that fell into measured windows at random.
            // Once: a round that ends while the pings still go out asks for no second pass into the measured window.
            if (pingNow.CurrentCount == 0)
            {
                pingNow.Release();
            }
            // The background tier-1 compiles of what the round ran.
            await Task.Delay(WarmUpPause);
            var after = await cluster.StatsAsync();
            var compiled = after.Sum(s => s.JitMethods) - before.Sum(s => s.JitMethods);
            progress.WriteLine($"  warm-up round {round}: {notifies} notifies, {Between(before, after)}");
            quietRounds = compiled <= QuietJitMethodsPerServer * scenario.Servers ? quietRounds + 1 : 0;
            if (quietRounds == QuietRoundsNeeded || round >= maxRounds)
            {
                return;
            }
            before = after;
        }
    }

    /// <summary>What the servers' JIT compiled and their CPU between two readings, as the console shows it.</summary>
    private static string Between(IReadOnlyList<HostStats> before, IReadOnlyList<HostStats> after) =>
        Invariant($"{after.Sum(s => s.JitMethods) - before.Sum(s => s.JitMethods)} methods compiled, {after.Sum(s => s.JitMs) - before.Sum(s => s.JitMs):0} ms of JIT, ")
        + Invariant($"{after.Sum(s => s.CpuMs) - before.Sum(s => s.CpuMs):0} ms of server CPU");

    /// <summary>", N thread-pool work items per notify" between two readings, or nothing where a host does not count them (Node).</summary>
    private static string WorkItemsPerNotify(IReadOnlyList<HostStats> before, IReadOnlyList<HostStats> after, int notifies) =>
        after.Concat(before).Any(s => s.WorkItems is null)
            ? ""
            : Invariant($", {(double)(after.Sum(s => s.WorkItems!.Value) - before.Sum(s => s.WorkItems!.Value)) / notifies:0.00} thread-pool work items per notify");

    // Generous: every message must have been published, plus time to drain queues at a rate well below capacity.
    private static TimeSpan DeliveryBound(Scenario scenario) =>
        TimeSpan.FromSeconds(30 + ((double)scenario.Messages * scenario.Subscribers / scenario.Targets / 20_000));

    private static async Task ConnectAsync(Scenario scenario, BenchCluster cluster, List<BenchSubscriber> subscribers, int from, int to, TextWriter progress)
    {
        using var bound = new CancellationTokenSource(ConnectBound);
        var connected = new BenchSubscriber[to - from];
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = bound.Token }, async (i, ct) =>
        {
            var server = cluster.Hosts[i % cluster.Hosts.Count].BaseUri;
            var tally = new Tally(scenario.PerSubscriber);
            connected[i - from] = scenario.Transport switch
            {
                "sse" => await SseSubscriber.ConnectAsync(server, scenario.QueryOf(i), tally, ct),
                "socketio" => await SocketIoSubscriber.ConnectAsync(server, scenario.QueryOf(i), tally, ct),
                "microsoft" => await HubSubscriber.ConnectAsync(new Uri(server, "/peer"), scenario.QueryOf(i), tally, ct),
                "signalr" => await HubSubscriber.ConnectAsync(new Uri(server, "/plain"), scenario.QueryOf(i), tally, ct),
                _ => await HubSubscriber.ConnectAsync(new Uri(server, "/hub"), scenario.QueryOf(i), tally, ct),
            };
            if (Interlocked.Increment(ref done) % 1000 == 0)
            {
                progress.WriteLine($"  {from + done}/{scenario.Subscribers} subscribers connected");
            }
        });
        subscribers.AddRange(connected);
    }

    // A subscriber is reachable once a probe sent through its target group arrives: that proves the group
    // membership on every server, which no presence count can.
    private static async Task ProbeAsync(Scenario scenario, BenchCluster cluster, List<BenchSubscriber> subscribers, TextWriter progress, List<string> problems)
    {
        var deadline = DateTime.UtcNow + ProbeBound;
        var rounds = 0;
        while (DateTime.UtcNow < deadline)
        {
            await cluster.PublishAsync(scenario, scenario.Targets, "cmd.probe", rate: 0);
            rounds++;
            await Task.Delay(200);
            var waiting = subscribers.Count(s => !s.Tally.Ready);
            if (waiting == 0)
            {
                progress.WriteLine($"  all {subscribers.Count} subscribers reachable after {rounds} probe round(s)");
                return;
            }
        }
        var missing = subscribers.Count(s => !s.Tally.Ready);
        problems.Add(string.Create(CultureInfo.InvariantCulture, $"{missing} subscribers never received a probe within {ProbeBound.TotalSeconds} s"));
    }

    /// <summary>Pings every subscriber each <see cref="KeepAlivePeriod"/>, or at once when <paramref name="now"/> is released.</summary>
    private static async Task KeepAliveAsync(List<BenchSubscriber> subscribers, SemaphoreSlim now, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await now.WaitAsync(KeepAlivePeriod, stop);
                foreach (var subscriber in subscribers)
                {
                    await subscriber.PingAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private static async Task DisposeAllAsync(List<BenchSubscriber> subscribers)
    {
        await Parallel.ForEachAsync(subscribers, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (s, _) => await s.DisposeAsync());
        subscribers.Clear();
    }
}

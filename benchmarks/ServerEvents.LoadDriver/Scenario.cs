using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using ServerEvents.Resp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.LoadDriver;

/// <summary>One benchmark run: servers, subscribers spread over them, one publisher on server 0.</summary>
public sealed record Scenario(string Name, string Backend, int Servers, string Transport, int Subscribers, int Messages, double Rate, int Window = 64, int PayloadBytes = 64);

/// <summary>The measured outcome of a <see cref="Scenario"/>.</summary>
public sealed record Result(Scenario Scenario, double DeliveredPerSecond, double P50, double P90, double P99, double Max, long Lost, long Duplicates, long OutOfOrder, double ServerCpuMicrosPerDelivery, double? RedisCommandsPerNotify, double ElapsedSeconds);

public static class ScenarioRunner
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };

    public static async Task<Result> RunAsync(Scenario scenario, TextWriter progress)
    {
        await using var redis = scenario.Backend == "redis" ? await RedisServer.StartAsync() : null;
        var hosts = new List<HostProcess>();
        var subscribers = new List<IBenchSubscriber>();
        try
        {
            for (var i = 0; i < scenario.Servers; i++)
            {
                var args = redis is null ? new List<string>() : ["--redis=" + redis.ConnectionString, "--prefix=bench"];
                hosts.Add(await HostProcess.StartAsync(BenchHostDll, "bench host listening on ", args));
            }
            var channel = "bench";
            for (var i = 0; i < scenario.Subscribers; i++)
            {
                var server = hosts[i % hosts.Count].BaseUri;
                subscribers.Add(scenario.Transport == "sse"
                    ? await SseSubscriber.ConnectAsync(server, channel, scenario.Messages)
                    : await HubSubscriber.ConnectAsync(server, channel, scenario.Messages));
                if ((i + 1) % 500 == 0)
                {
                    progress.WriteLine($"  {i + 1}/{scenario.Subscribers} subscribers connected");
                }
            }
            await Task.Delay(500); // let the last group subscriptions settle before counting

            await using var admin = redis is null ? null : new RedisConnection(RedisConnectionOptions.Parse(redis.ConnectionString), NullLogger.Instance);
            if (admin is not null)
            {
                await admin.ConnectAsync();
                await admin.ExecuteAsync(RespCommand.Create("CONFIG", "RESETSTAT"));
            }
            var cpuBefore = await CpuMsAsync(hosts);
            var clock = Stopwatch.StartNew();
            using var publish = await Http.PostAsJsonAsync(new Uri(hosts[0].BaseUri, "/bench/publish"),
                new { channel, count = scenario.Messages, rate = scenario.Rate, window = scenario.Window, payloadBytes = scenario.PayloadBytes });
            publish.EnsureSuccessStatusCode();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!subscribers.All(s => s.Tally.Complete) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            var elapsed = clock.Elapsed.TotalSeconds;
            var cpuAfter = await CpuMsAsync(hosts);
            double? commands = null;
            if (admin is not null)
            {
                var stats = (await admin.ExecuteAsync(RespCommand.Create("INFO", "commandstats"))).AsString()!;
                commands = CommandCalls(stats) / (double)scenario.Messages;
            }

            var tallies = subscribers.Select(s => s.Tally).ToList();
            var latencies = tallies.SelectMany(t => t.LatenciesMs).Order().ToArray();
            long delivered = latencies.Length;
            return new Result(scenario,
                delivered / elapsed,
                Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99), latencies.Length == 0 ? double.NaN : latencies[^1],
                (long)scenario.Messages * scenario.Subscribers - delivered,
                tallies.Sum(t => (long)t.Duplicates),
                tallies.Sum(t => (long)t.OutOfOrder),
                delivered == 0 ? double.NaN : (cpuAfter - cpuBefore) * 1000 / delivered,
                commands,
                elapsed);
        }
        finally
        {
            foreach (var subscriber in subscribers)
            {
                await subscriber.DisposeAsync();
            }
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    private static string BenchHostDll
    {
        get
        {
            // …/benchmarks/ServerEvents.LoadDriver/bin/{Configuration}/net10.0/ → the bench host built alongside.
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var benchmarks = framework.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(benchmarks, "ServerEvents.BenchHost", "bin", framework.Parent.Name, framework.Name, "ServerEvents.BenchHost.dll");
        }
    }

    private static async Task<double> CpuMsAsync(IEnumerable<HostProcess> hosts)
    {
        var total = 0.0;
        foreach (var host in hosts)
        {
            using var stats = JsonDocument.Parse(await Http.GetStringAsync(new Uri(host.BaseUri, "/bench/stats")));
            total += stats.RootElement.GetProperty("cpuMs").GetDouble();
        }
        return total;
    }

    // Calls of every command except the measurement's own and the connections' keep-alive pings.
    private static long CommandCalls(string info) =>
        info.Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Where(l => !l.StartsWith("cmdstat_ping:", StringComparison.Ordinal) && !l.StartsWith("cmdstat_info:", StringComparison.Ordinal) && !l.StartsWith("cmdstat_config", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split("calls=")[1].Split(',')[0], CultureInfo.InvariantCulture));

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.LoadDriver;

/// <summary>Process figures one bench host reports; <see cref="WorkItems"/> (thread-pool work items run) is null for the Node peer, which has no pool.</summary>
public sealed record HostStats(double CpuMs, long AllocatedBytes, long WorkingSetBytes, long GcHeapBytes, double JitMs, long JitMethods, long? WorkItems);

/// <summary>
/// The servers of one run: a redis-server of its own (Redis back-end) and N bench host processes, plus the
/// driver's side doors into them — the in-process publisher, process stats and Redis INFO.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(5) };
    private readonly RedisDeployment? _redis;
    private readonly RedisAdmin? _admin;

    private BenchCluster(RedisDeployment? redis, RedisAdmin? admin, IReadOnlyList<HostProcess> hosts)
    {
        _redis = redis;
        _admin = admin;
        Hosts = hosts;
    }

    public IReadOnlyList<HostProcess> Hosts { get; }

    public static async Task<BenchCluster> StartAsync(string backend, int servers, bool history = true, string transport = "hub")
    {
        RedisDeployment? redis = backend switch
        {
            "redis" => await RedisServer.StartAsync(),
            "cluster" => await RedisCluster.StartAsync(masters: 3),
            _ => null,
        };
        var hosts = new List<HostProcess>();
        RedisAdmin? admin = null;
        try
        {
            for (var i = 0; i < servers; i++)
            {
                var args = redis is null ? new List<string>() : ["--redis=" + redis.ConnectionString, "--prefix=bench"];
                if (!history)
                {
                    args.Add("--history=0");
                }
                hosts.Add(transport switch
                {
                    "socketio" => await HostProcess.StartProgramAsync("node", [SocketIoServer, .. args], Ready),
                    "microsoft" => await HostProcess.StartAsync(BenchHostDll, Ready, [.. args, "--peer=microsoft"]),
                    _ => await HostProcess.StartAsync(BenchHostDll, Ready, args),
                });
            }
            if (redis is not null)
            {
                admin = await redis.ConnectAsync();
            }
            return new BenchCluster(redis, admin, hosts);
        }
        catch
        {
            await new BenchCluster(redis, admin, hosts).DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the publisher inside server 0; returns how many notifies failed.</summary>
    public async Task<int> PublishAsync(Scenario scenario, int count, string selector, double rate)
    {
        var (kind, prefix) = scenario.PublishTarget;
        using var response = await Http.PostAsJsonAsync(new Uri(Hosts[0].BaseUri, "/bench/publish"),
            new { kind, prefix, targets = scenario.Targets, count, rate, window = scenario.Window, payloadBytes = scenario.PayloadBytes, selector });
        response.EnsureSuccessStatusCode();
        using var outcome = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return outcome.RootElement.GetProperty("failures").GetInt32();
    }

    /// <summary>CPU time of every server; with <paramref name="memory"/>, also memory after full collections.</summary>
    public async Task<IReadOnlyList<HostStats>> StatsAsync(bool memory = false)
    {
        var stats = new List<HostStats>();
        foreach (var host in Hosts)
        {
            using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(host.BaseUri, memory ? "/bench/stats?memory=true" : "/bench/stats")));
            var root = json.RootElement;
            stats.Add(new HostStats(root.GetProperty("cpuMs").GetDouble(), root.GetProperty("allocatedBytes").GetInt64(), root.GetProperty("workingSetBytes").GetInt64(), root.GetProperty("gcHeapBytes").GetInt64(),
                root.GetProperty("jitMs").GetDouble(), root.GetProperty("jitMethods").GetInt64(), root.TryGetProperty("workItems", out var workItems) ? workItems.GetInt64() : null));
        }
        return stats;
    }

    public async Task ResetRedisStatsAsync()
    {
        if (_admin is not null)
        {
            await _admin.OnEveryMasterAsync("CONFIG", "RESETSTAT");
        }
    }

    /// <summary>Calls per command Redis ran since the last reset, leaving out the driver's own and keep-alive pings.</summary>
    public async Task<IReadOnlyDictionary<string, long>?> RedisCommandsAsync()
    {
        if (_admin is null)
        {
            return null;
        }
        // cmdstat_evalsha:calls=200,usec=…
        // Summed over a cluster's masters.
        var info = string.Join('\n', (await _admin.OnEveryMasterAsync("INFO", "commandstats")).Select(r => r.ToString()));
        return info.Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Select(l => (Name: l["cmdstat_".Length..l.IndexOf(':', StringComparison.Ordinal)], Calls: long.Parse(l.Split("calls=")[1].Split(',')[0], CultureInfo.InvariantCulture)))
            // Left out: the driver's own commands and StackExchange.Redis's connection housekeeping.
            .Where(c => c.Name is not ("ping" or "info" or "echo" or "hello" or "subscribe") && !c.Name.StartsWith("config", StringComparison.Ordinal)
                && !c.Name.StartsWith("client", StringComparison.Ordinal) && !c.Name.StartsWith("cluster", StringComparison.Ordinal))
            .GroupBy(c => c.Name)
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Calls));
    }

    /// <summary>redis-server's CPU time (user + system) in ms, from INFO cpu; null on the memory back-end.</summary>
    public async Task<double?> RedisCpuMsAsync()
    {
        if (_admin is null)
        {
            return null;
        }
        var info = string.Join('\n', (await _admin.OnEveryMasterAsync("INFO", "cpu")).Select(r => r.ToString()));
        return info.Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("used_cpu_sys:", StringComparison.Ordinal) || l.StartsWith("used_cpu_user:", StringComparison.Ordinal))
            .Sum(l => double.Parse(l.Split(':')[1], CultureInfo.InvariantCulture)) * 1000;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Hosts)
        {
            await host.DisposeAsync();
        }
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private const string Ready = "bench host listening on ";

    /// <summary>benchmarks/socketio-peer/server.mjs, whose npm packages <c>npm ci</c> installed (install-prerequisites.sh does).</summary>
    private static string SocketIoServer
    {
        get
        {
            var folder = RepoPaths.Of("benchmarks", "socketio-peer");
            if (!Directory.Exists(Path.Combine(folder, "node_modules", "socket.io")))
            {
                throw new InvalidOperationException($"The Socket.IO peer's npm packages are missing: run npm ci --prefix {folder}");
            }
            return Path.Combine(folder, "server.mjs");
        }
    }

    private static string BenchHostDll
    {
        get
        {
            // Another build of the bench host (the commit before a change, say) to measure against in the same sitting.
            if (Environment.GetEnvironmentVariable("SERVEREVENTS_BENCH_HOST") is { Length: > 0 } other)
            {
                return other;
            }
            // …/benchmarks/ServerEvents.LoadDriver/bin/{Configuration}/net10.0/ → the bench host built alongside.
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var benchmarks = framework.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(benchmarks, "ServerEvents.BenchHost", "bin", framework.Parent.Name, framework.Name, "ServerEvents.BenchHost.dll");
        }
    }
}

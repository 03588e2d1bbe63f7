using System.Diagnostics;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// A real Redis Cluster on free 127.0.0.1 ports: N masters (and replicas), each a redis-server process started with
/// <c>--cluster-enabled yes</c>, joined by <c>redis-cli --cluster create</c>. Starting it fails loudly, as
/// <see cref="RedisServer"/> does: cluster tests never skip.
/// </summary>
public sealed class RedisCluster : RedisDeployment
{
    private readonly DirectoryInfo _folder;
    private readonly int _masters;
    private readonly int _replicas;

    private RedisCluster(DirectoryInfo folder, List<RedisServer> nodes, int masters, int replicas)
    {
        _folder = folder;
        Nodes = nodes;
        _masters = masters;
        _replicas = replicas;
    }

    public IReadOnlyList<RedisServer> Nodes { get; }

    /// <summary>Every node, as StackExchange.Redis takes a cluster's endpoints.</summary>
    public override string ConnectionString => string.Join(",", Nodes.Select(n => n.ConnectionString));

    /// <param name="masters">Masters, which share the slots.</param>
    /// <param name="replicasPerMaster">Replicas of each master.</param>
    /// <param name="extraArgs">More redis-server arguments for every node (persistence, say).</param>
    public static async Task<RedisCluster> StartAsync(int masters = 3, int replicasPerMaster = 0, params string[] extraArgs)
    {
        var folder = Directory.CreateTempSubdirectory("redis-cluster-");
        var nodes = new List<RedisServer>();
        var cluster = new RedisCluster(folder, nodes, masters, masters * replicasPerMaster);
        try
        {
            for (var i = 0; i < masters * (1 + replicasPerMaster); i++)
            {
                nodes.Add(await RedisServer.StartAsync(port =>
                [
                    "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(folder.FullName, $"nodes-{port}.conf"),
                    "--cluster-node-timeout", "2000", "--dir", folder.FullName, "--repl-diskless-sync-delay", "0",
                    "--appendfilename", $"appendonly-{port}.aof", "--appenddirname", $"aof-{port}", .. extraArgs,
                ]));
            }
            await RunCliAsync(["--cluster", "create", .. nodes.Select(n => n.ConnectionString), "--cluster-replicas", replicasPerMaster.ToString(), "--cluster-yes"]);
            await cluster.WaitUntilHealthyAsync(masters, masters * replicasPerMaster);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public override async Task KillAsync()
    {
        foreach (var node in Nodes)
        {
            await node.KillAsync();
        }
    }

    /// <summary>Restarts every node; they find each other again from their cluster config files.</summary>
    public override async Task RestartAsync()
    {
        foreach (var node in Nodes)
        {
            await node.RestartAsync();
        }
        await WaitUntilHealthyAsync(_masters, _replicas);
    }

    /// <summary>The master that holds <paramref name="key"/>'s slot now.</summary>
    public async Task<RedisServer> MasterOfAsync(string key)
    {
        await using var admin = await RedisAdmin.ConnectAsync(ConnectionString);
        var endpoint = admin.Multiplexer.GetDatabase().IdentifyEndpoint(key) ?? throw new InvalidOperationException($"No node holds '{key}'.");
        return Nodes.Single(n => StackExchange.Redis.EndPointCollection.ToString(endpoint).EndsWith(":" + n.Port, StringComparison.Ordinal));
    }

    /// <summary>Waits until every running node says the cluster is ok and sees the expected masters and replicas.</summary>
    public async Task WaitUntilHealthyAsync(int masters, int replicas, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var healthy = true;
            foreach (var node in Nodes.Where(n => n.IsRunning))
            {
                var info = await RunCliAsync(["-p", node.Port.ToString(), "cluster", "info"], check: false);
                var nodes = await RunCliAsync(["-p", node.Port.ToString(), "cluster", "nodes"], check: false);
                var live = nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("fail", StringComparison.Ordinal)).ToList();
                var seen = (live.Count(l => l.Contains("master", StringComparison.Ordinal)), live.Count(l => l.Contains("slave", StringComparison.Ordinal)));
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || seen != (masters, replicas))
                {
                    healthy = false;
                    last = $"127.0.0.1:{node.Port}: {info.Split('\n').FirstOrDefault()?.Trim()}, sees {seen.Item1} masters and {seen.Item2} replicas";
                    break;
                }
            }
            if (healthy)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"The Redis Cluster did not become healthy ({masters} masters, {replicas} replicas): {last}");
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A node still writing its config as it died: the temp folder is cleaned up by the system.
        }
    }

    private static async Task<string> RunCliAsync(string[] args, bool check = true)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', args)} failed ({process.ExitCode}):\n{await output}{await error}");
        }
        return await output + await error;
    }
}

using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Benchmarks;

/// <summary>
/// The load driver at toy sizes, every scenario kind and both transports on both back-ends. Nothing here is a
/// performance assertion: it proves the driver still runs, and that its tallies are exact — every message
/// counted once, none lost — on real server processes and a real redis-server.
/// </summary>
[Trait("Category", "Redis")]
public sealed class LoadDriverTests(ITestOutputHelper output)
{
    private static string Dll
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = RepoPaths.Of("benchmarks", "ServerEvents.LoadDriver", "bin", framework.Parent!.Name, framework.Name, "ServerEvents.LoadDriver.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first: {path} is missing.");
        }
    }

    [Fact]
    public async Task Every_scenario_kind_delivers_exactly_once_on_both_back_ends()
    {
        // The channels run makes more notifies than the publisher keeps in flight (64), so its refills can wait too.
        var outcome = await ProcessRunner.RunAsync("dotnet",
            [Dll, "--run", "broadcast,memory,1,hub,20,100,0", "--run", "broadcast,redis,2,sse,12,60,100", "--run", "channels,redis,2,hub,30,300,0", "--run", "users,redis,3,sse,9,27,0", "--run", "broadcast,redis,2,hub,10,50,0,nohistory", "--warm-up-rounds", "1"],
            TimeSpan.FromMinutes(3));
        output.WriteLine(outcome.Stdout);
        output.WriteLine(outcome.Stderr);
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.Stdout.Split('\n').Where(l => l.StartsWith("| broadcast", StringComparison.Ordinal) || l.StartsWith("| channels", StringComparison.Ordinal) || l.StartsWith("| users", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, rows.Count);
        foreach (var row in rows)
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal(["0", "0", "0"], cells[14..17]); // lost, duplicates, out of order
        }
        Assert.Equal(["on", "on", "on", "on", "off"], rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)[5]));
        // Each of the five measured windows is also described per server, server 0 (the publisher's) first.
        Assert.Equal(5, outcome.Stderr.Split('\n').Count(l => l.StartsWith("    server 0: ", StringComparison.Ordinal)));
        Assert.Contains("    server 2: ", outcome.Stderr);
    }

    [Fact]
    public async Task The_peers_run_through_the_same_driver_and_deliver_exactly_once()
    {
        // Microsoft's Redis backplane under a plain hub, and Socket.IO 4 with its Redis adapter and alone.
        var outcome = await ProcessRunner.RunAsync("dotnet",
            [Dll, "--run", "broadcast,redis,2,microsoft,10,200,0", "--run", "users,redis,2,socketio,9,27,0", "--run", "channels,memory,1,socketio,20,40,100", "--warm-up-rounds", "1"],
            TimeSpan.FromMinutes(3));
        output.WriteLine(outcome.Stdout);
        output.WriteLine(outcome.Stderr);
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.Stdout.Split('\n').Where(l => l.StartsWith("| broadcast", StringComparison.Ordinal) || l.StartsWith("| users", StringComparison.Ordinal) || l.StartsWith("| channels", StringComparison.Ordinal)).ToList();
        Assert.Equal(["microsoft", "socketio", "socketio"], rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)[4]));
        foreach (var row in rows)
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries);
            Assert.Equal(["0", "0", "0"], cells[14..17]); // lost, duplicates, out of order
            Assert.NotEqual("–", cells[17]); // server CPU per delivery was measured
        }
    }

    [Fact]
    public async Task The_chat_route_is_measured_on_both_back_ends_with_every_message_delivered()
    {
        // The built ChatHub sample, as users run it: each POST is answered, and the channel's subscriber gets each message.
        var outcome = await ProcessRunner.RunAsync("dotnet", [Dll, "--chat", "--chat-posts", "100"], TimeSpan.FromMinutes(3));
        output.WriteLine(outcome.Stdout);
        output.WriteLine(outcome.Stderr);
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.Stdout.Split('\n').Where(l => l.StartsWith("| memory", StringComparison.Ordinal) || l.StartsWith("| redis", StringComparison.Ordinal)).ToList();
        Assert.Equal(["memory", "redis"], rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)[1]));
        foreach (var cells in rows.Select(r => r.Split('|', StringSplitOptions.TrimEntries)))
        {
            Assert.Equal("yes", cells[9]); // every POST answered 200 and every message delivered once
            Assert.True(double.Parse(cells[5], System.Globalization.CultureInfo.InvariantCulture) > 0, "server CPU per POST was measured");
        }
    }

    [Fact]
    public async Task A_malformed_scenario_is_refused_with_the_expected_form()
    {
        var outcome = await ProcessRunner.RunAsync("dotnet", [Dll, "--run", "broadcast,memory,3,hub,10,10,0"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("memory back-end serves one server", outcome.Stderr);
        outcome = await ProcessRunner.RunAsync("dotnet", [Dll, "--run", "fanout,redis,3"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("kind,backend,servers,transport,subscribers,messages,rate", outcome.Stderr);
    }
}

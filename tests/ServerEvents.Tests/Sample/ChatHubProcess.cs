using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sample;

/// <summary>The built ChatHub sample, started as a user starts it (same build configuration as the tests).</summary>
public static class ChatHubProcess
{
    public static string Dll
    {
        get
        {
            // …/tests/ServerEvents.Tests/bin/{Configuration}/net10.0/ → samples/ChatHub/bin/{Configuration}/net10.0/ChatHub.dll
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = RepoPaths.Of("samples", "ChatHub", "bin", framework.Parent!.Name, framework.Name, "ChatHub.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first: {path} is missing.");
        }
    }

    /// <summary>Starts it on a free port; on another one if something took that port before the sample bound it.</summary>
    public static async Task<HostProcess> StartAsync(params string[] args)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartAsync(RedisServer.FreePort(), args);
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    /// <summary>Starts it on <paramref name="port"/>, e.g. again where a killed instance was.</summary>
    public static Task<HostProcess> StartAsync(int port, params string[] args) =>
        HostProcess.StartAsync(Dll, "ChatHub on ", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--admin-key", AdminKey, .. args]);

    /// <summary>The key every test instance is started with, for its reset routes.</summary>
    public const string AdminKey = "test-admin-key";

    /// <summary>Runs the sample expecting it to refuse to start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToFailureAsync(params string[] args)
    {
        var outcome = await ProcessRunner.RunAsync("dotnet", [Dll, .. args], TimeSpan.FromSeconds(30));
        return (outcome.ExitCode, outcome.Stdout + outcome.Stderr);
    }
}

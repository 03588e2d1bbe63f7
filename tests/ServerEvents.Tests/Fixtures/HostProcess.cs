using System.Diagnostics;
using System.Text;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// An app server in its own process — tests/ServerEvents.TestHost, or the built ChatHub sample — for tests
/// that run servers as users do, or kill one abruptly: SIGKILL runs no shutdown code, like a crashed machine.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private const string TestHostReady = "listening on ";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process) => _process = process;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Starts tests/ServerEvents.TestHost (copied next to the tests) and waits until it listens.</summary>
    public static Task<HostProcess> StartAsync(params string[] args) =>
        StartAsync(Path.Combine(AppContext.BaseDirectory, "ServerEvents.TestHost.dll"), TestHostReady, args);

    /// <summary>Runs <c>dotnet {dll} {args}</c> until a stdout line starts with <paramref name="ready"/> followed by the base URL.</summary>
    public static Task<HostProcess> StartAsync(string dll, string ready, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        StartProgramAsync("dotnet", [dll, .. args], ready, environment);

    /// <summary>Runs <paramref name="program"/> (node, say) until a stdout line starts with <paramref name="ready"/> followed by the base URL.</summary>
    public static async Task<HostProcess> StartProgramAsync(string program, IEnumerable<string> args, string ready, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}."));
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        host._process.OutputDataReceived += (_, e) =>
        {
            host.Append(e.Data);
            // Trimmed: ASP.NET Core's console logger indents its messages ("      Now listening on: …").
            var line = e.Data?.TrimStart();
            if (line?.StartsWith(ready, StringComparison.Ordinal) == true)
            {
                listening.TrySetResult(new Uri(line[ready.Length..].Split(' ')[0]));
            }
        };
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        // A process that exits (a port taken, a bad argument) says so at once instead of after the whole wait.
        var exited = host._process.WaitForExitAsync();
        var first = await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (first != listening.Task)
        {
            var why = first == exited ? $"exited with code {host._process.ExitCode} before it listened" : "did not start within 30 s";
            await host.DisposeAsync();
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} {why}. Output:\n{host.Output}");
        }
        host.BaseUri = await listening.Task;
        return host;
    }

    public Uri HubUrl(string query) => new(BaseUri, "/hub?" + query);

    /// <summary>The process's resident memory now.</summary>
    public long WorkingSetBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <summary>The CPU time the process has used so far (user and kernel).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>SIGKILL, then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}

using System.Diagnostics;
using System.Text;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// An app server in its own process (tests/ServerEvents.TestHost), for tests that need to kill a whole
/// server abruptly: SIGKILL runs no shutdown code, exactly like a crashed machine.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private const string Ready = "listening on ";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process) => _process = process;

    public Uri BaseUri { get; private set; } = null!;

    public static async Task<HostProcess> StartAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ServerEvents.TestHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet."));
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        host._process.OutputDataReceived += (_, e) =>
        {
            host.Append(e.Data);
            if (e.Data?.StartsWith(Ready, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult(new Uri(e.Data[Ready.Length..]));
            }
        };
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        try
        {
            host.BaseUri = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            await host.DisposeAsync();
            throw new TimeoutException($"{dll} did not start within 30 s. Output:\n{host.Output}");
        }
        return host;
    }

    public Uri HubUrl(string query) => new(BaseUri, "/hub?" + query);

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

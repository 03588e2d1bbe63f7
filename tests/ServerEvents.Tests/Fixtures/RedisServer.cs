using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// A real redis-server process on a free 127.0.0.1 port, no persistence. Starting it fails loudly
/// (binary, port and stderr in the message) when it cannot run: Redis tests never skip.
/// </summary>
public sealed class RedisServer : RedisDeployment
{
    private readonly string[] _extraArgs;
    private Process? _process;
    private readonly StringBuilder _output = new();

    private RedisServer(int port, string[] extraArgs)
    {
        Port = port;
        _extraArgs = extraArgs;
    }

    /// <summary>The process id while it runs (to stop it with SIGSTOP, say).</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public int Port { get; }

    public override string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts on a free port; on another one if something took that port before redis-server bound it.</summary>
    public static Task<RedisServer> StartAsync(params string[] extraArgs) => StartAsync(_ => extraArgs);

    /// <summary>Starts on a free port with arguments that depend on it (a cluster node's config file, say).</summary>
    public static async Task<RedisServer> StartAsync(Func<int, string[]> extraArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var server = new RedisServer(port, extraArgs(port));
            try
            {
                await server.RestartAsync();
                return server;
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts (again) on the same port; all data is gone, as after a real crash without persistence.</summary>
    public override async Task RestartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("redis-server is already running.");
        }
        var binary = FindBinary();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" }.Concat(_extraArgs))
        {
            start.ArgumentList.Add(arg);
        }
        _output.Clear();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await PingsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server ({binary}) did not start on 127.0.0.1:{Port}. Output:\n{Output}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Kills the process abruptly (SIGKILL) and waits for it to be gone.</summary>
    public override async Task KillAsync()
    {
        if (_process is { } process && !process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().DefaultTimeout();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
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

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            // A password-protected server answers -NOAUTH: it is up all the same.
            return read > 0 && (buffer[0] == (byte)'+' || Encoding.ASCII.GetString(buffer, 0, read).Contains("NOAUTH"));
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    private static string FindBinary()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("redis-server is not installed (not found on PATH). Run ./test.sh, which installs it from Debian's packages.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A StackExchange.Redis connection for the tests' and benchmarks' own admin commands, sent as they are.</summary>
public sealed class RedisAdmin : IAsyncDisposable
{
    private RedisAdmin(StackExchange.Redis.ConnectionMultiplexer multiplexer) => Multiplexer = multiplexer;

    public StackExchange.Redis.ConnectionMultiplexer Multiplexer { get; }

    public static async Task<RedisAdmin> ConnectAsync(string configuration) =>
        new(await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(configuration + ",allowAdmin=true").DefaultTimeout());

    /// <summary>Runs one command on the first endpoint (the only one, outside a cluster).</summary>
    public Task<StackExchange.Redis.RedisResult> ExecuteAsync(string command, params object[] args) =>
        Multiplexer.GetServers()[0].ExecuteAsync(command, args);

    /// <summary>Runs one command on every master (the one server, outside a cluster): FLUSHALL, CLIENT KILL, INFO, ….</summary>
    public async Task<StackExchange.Redis.RedisResult[]> OnEveryMasterAsync(string command, params object[] args) =>
        await Task.WhenAll(Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica).Select(s => s.ExecuteAsync(command, args)));

    /// <summary>The master that holds <paramref name="key"/>'s slot (the one server, outside a cluster); asks Redis, so not while it is busy.</summary>
    public StackExchange.Redis.IServer MasterOf(string key) => Multiplexer.GetServer(Multiplexer.GetDatabase().IdentifyEndpoint(key)!);

    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync();
}

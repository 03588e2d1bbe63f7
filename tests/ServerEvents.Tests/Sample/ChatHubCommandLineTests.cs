using System.Net;
using System.Net.Sockets;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sample;

/// <summary>ChatHub's command line: Chat.exe's two forms, and one clear line plus a non-zero exit for bad input.</summary>
public sealed class ChatHubCommandLineTests
{
    [Theory]
    [InlineData("--bogus 1", 2, "Unknown option 'bogus'")]
    [InlineData("--port abc", 2, "--port must be a number")]
    [InlineData("/port=70000", 2, "--port must be a number")]
    [InlineData("stray", 2, "Unexpected argument 'stray'")]
    [InlineData("--redis", 2, "--redis needs a value")]
    [InlineData("--redis host:1,bogus=1", 2, "Keyword 'bogus' is not supported")]
    public async Task Bad_input_gets_one_clear_line_and_a_non_zero_exit(string args, int exitCode, string message)
    {
        var (code, output) = await ChatHubProcess.RunToFailureAsync(args.Split(' '));
        Assert.Equal(exitCode, code);
        Assert.Contains(message, output);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_port_in_use_and_an_unreachable_redis_are_reported_in_one_line()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, output) = await ChatHubProcess.RunToFailureAsync("--port", port.ToString());
        Assert.Equal(3, code);
        Assert.Contains($"port {port} is already in use", output);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var (redisCode, redisOutput) = await ChatHubProcess.RunToFailureAsync("/port=" + RedisServer.FreePort(), "/redis=127.0.0.1:" + RedisServer.FreePort());
        Assert.Equal(4, redisCode);
        Assert.Contains("cannot reach Redis", redisOutput);
        Assert.Single(redisOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Both_argument_forms_and_environment_variables_configure_the_instance()
    {
        await using var dashed = await ChatHubProcess.StartAsync("--background", "/img/a.jpg");
        using var http = new HttpClient();
        Assert.Contains("/img/a.jpg", await http.GetStringAsync(new Uri(dashed.BaseUri, "/chat-settings")).DefaultTimeout());

        var port = RedisServer.FreePort();
        await using var slashed = await HostProcess.StartAsync(ChatHubProcess.Dll, "ChatHub on ", [$"/port={port}", "/background=/img/b.jpg"]);
        Assert.Equal(port, slashed.BaseUri.Port);
        Assert.Contains("/img/b.jpg", await http.GetStringAsync(new Uri(slashed.BaseUri, "/chat-settings")).DefaultTimeout());

        var envPort = RedisServer.FreePort();
        await using var fromEnvironment = await HostProcess.StartAsync(ChatHubProcess.Dll, "ChatHub on ", [],
            new Dictionary<string, string> { ["CHATHUB_PORT"] = envPort.ToString(), ["CHATHUB_BACKGROUND"] = "/img/env.jpg" });
        Assert.Equal(envPort, fromEnvironment.BaseUri.Port);
        Assert.Contains("/img/env.jpg", await http.GetStringAsync(new Uri(fromEnvironment.BaseUri, "/chat-settings")).DefaultTimeout());
    }
}

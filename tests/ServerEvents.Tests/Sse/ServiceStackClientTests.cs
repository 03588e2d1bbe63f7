using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Sse;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Sse;

/// <summary>
/// The real npm clients against the bridge: tests/e2e-node/servicestack-client.mjs drives
/// <c>@servicestack/client</c>'s <c>ServerEventsClient</c> and the <c>eventsource</c> package, one client on
/// each of two servers, and prints what it observed; this test checks it. The packages are installed by
/// the test command (<c>npm ci</c>); a missing install fails the test.
/// </summary>
public abstract class ServiceStackClientTests(ITestOutputHelper output)
{
    protected abstract int ServerCount { get; }

    protected abstract void UseBackend(IServerEventsBuilder builder);

    private sealed record NotifyRequest(string Channel, string Selector, string? Json);

    private Task<TestCluster> StartAsync()
    {
        Assert.True(Directory.Exists(RepoPaths.Of("tests", "e2e-node", "node_modules", "@servicestack", "client")),
            "npm packages missing: run the README test command (it runs npm ci in tests/e2e-node).");
        return TestCluster.StartAsync(ServerCount,
            services => UseBackend(services.AddServerEvents(o => o.HeartbeatInterval = TimeSpan.FromSeconds(1)).AddSseBridge()),
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
                app.MapPost("/test/notify", (NotifyRequest r, IServerEvents events) => events.NotifyChannelJsonAsync(r.Channel, r.Selector, r.Json ?? ""));
            });
    }

    [Fact]
    public async Task The_npm_EventSource_reconnecting_to_another_server_gets_what_it_missed_via_Last_Event_ID()
    {
        await using var cluster = await StartAsync();
        var (exitCode, lines) = await RunNodeAsync(RepoPaths.Of("tests", "e2e-node", "eventsource-resume.mjs"),
            cluster[0].BaseUri.ToString().TrimEnd('/'), cluster[cluster.Count - 1].BaseUri.ToString().TrimEnd('/'));
        Assert.True(exitCode == 0, "node scenario failed:\n" + string.Join('\n', lines));
        var seen = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        JsonElement One(string type) => seen.First(e => e.GetProperty("type").GetString() == type);

        Assert.Equal(Enumerable.Range(0, 106), One("seqs").GetProperty("seqs").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal(0, One("resets").GetProperty("count").GetInt32());
        var requests = One("requests").GetProperty("requests").EnumerateArray().ToList();
        Assert.True(requests.Count >= 2);
        Assert.Equal(JsonValueKind.Null, requests[0].GetProperty("lastEventId").ValueKind);
        Assert.NotEqual("", requests[1].GetProperty("lastEventId").GetString()); // EventSource's own header, not ours
    }

    [Fact]
    public async Task The_npm_ServerEventsClient_resumes_on_other_servers_with_lastEventId_and_misses_nothing()
    {
        await using var cluster = await StartAsync();
        var servers = Enumerable.Range(0, 3).Select(i => cluster[i].BaseUri.ToString().TrimEnd('/')).ToArray();
        var (exitCode, lines) = await RunNodeAsync(RepoPaths.Of("tests", "e2e-node", "servicestack-resume.mjs"), servers);
        Assert.True(exitCode == 0, "node scenario failed:\n" + string.Join('\n', lines));
        var seen = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        JsonElement One(string type) => seen.First(e => e.GetProperty("type").GetString() == type);

        // 0-4 live on A, the 100 published while it was stopped replayed on B, 105 live, 106-125 published while B
        // was unreachable, 126 live on C: each once, in order.
        Assert.Equal(Enumerable.Range(0, 127), One("seqs").GetProperty("seqs").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal(0, One("resets").GetProperty("count").GetInt32());
        var streams = One("streams").GetProperty("streams").EnumerateArray().Select(s => s.GetString()!).ToList();
        Assert.DoesNotContain("lastEventId=", streams[0], StringComparison.Ordinal);
        Assert.StartsWith(servers[1] + "/event-stream?", streams[1], StringComparison.Ordinal);
        Assert.Contains("lastEventId=", streams[1], StringComparison.Ordinal);
        if (ServerCount > 1)
        {
            Assert.Contains(streams.Skip(2), url => url.StartsWith(servers[2] + "/event-stream?", StringComparison.Ordinal) && url.Contains("lastEventId=", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_npm_ServerEventsClient_and_EventSource_work_unchanged()
    {
        var script = RepoPaths.Of("tests", "e2e-node", "servicestack-client.mjs");
        await using var cluster = await StartAsync();

        var (exitCode, lines) = await RunNodeAsync(script, cluster[0].BaseUri.ToString().TrimEnd('/'), cluster[1].BaseUri.ToString().TrimEnd('/'));
        var seen = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        JsonElement One(string type) => seen.First(e => e.GetProperty("type").GetString() == type);
        Assert.True(exitCode == 0, "node scenario failed:\n" + string.Join('\n', lines));

        var connect = One("onConnect");
        Assert.Equal("home", connect.GetProperty("channels").GetString());
        Assert.Equal(1000, connect.GetProperty("heartbeatIntervalMs").GetInt32());
        Assert.StartsWith(cluster[0].BaseUri.ToString().TrimEnd('/') + "/event-heartbeat?id=", connect.GetProperty("heartbeatUrl").GetString());
        Assert.Equal("hello from B", One("chat").GetProperty("text").GetString());
        Assert.Equal("home", One("chat").GetProperty("channel").GetString());
        Assert.True(One("chat").GetProperty("eventId").GetInt64() > 0);
        Assert.Equal("Hi all", One("announce").GetProperty("text").GetString());
        Assert.Equal("https://youtu.be/518XP8prwZo", One("tv.watch").GetProperty("url").GetString());
        Assert.Equal("#eceff1", One("css.background").GetProperty("value").GetString());
        Assert.Equal("arg", One("trigger.customEvent").GetProperty("body").GetString());
        Assert.Equal(connect.GetProperty("userId").GetString(), One("onHeartbeat").GetProperty("userId").GetString());
        Assert.StartsWith("home@cmd.chat {\"text\":\"to both\"}", One("plain.chat").GetProperty("data").GetString());
        Assert.NotEqual("", One("plain.onConnect").GetProperty("lastEventId").GetString());
        Assert.Equal(["home", "news"], One("channels").GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(2, One("subscribers").GetProperty("userIds").GetArrayLength());
        Assert.Equal(200, One("plain.unregister").GetProperty("status").GetInt32());
        Assert.Equal(0, One("afterStop").GetProperty("remaining").GetInt32());
        Assert.DoesNotContain(seen, e => e.GetProperty("type").GetString() == "exception");
        Assert.Empty(await cluster.Api(0).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    private async Task<(int ExitCode, List<string> Lines)> RunNodeAsync(string script, params string[] args)
    {
        var outcome = await ProcessRunner.RunAsync("node", [script, .. args], TimeSpan.FromSeconds(60), Path.GetDirectoryName(script));
        var lines = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        output.WriteLine(string.Join('\n', lines));
        if (outcome.Stderr.Length > 0)
        {
            output.WriteLine("stderr: " + outcome.Stderr);
        }
        return (outcome.ExitCode, lines.Where(l => l.StartsWith('{')).ToList());
    }
}

public sealed class MemoryServiceStackClientTests(ITestOutputHelper output) : ServiceStackClientTests(output)
{
    protected override int ServerCount => 1;

    protected override void UseBackend(IServerEventsBuilder builder)
    {
    }
}

[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisServiceStackClientTests(RedisFixture redis, ITestOutputHelper output) : ServiceStackClientTests(output)
{
    private readonly string _prefix = "n" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

[Collection(RedisClusterTestGroup.Name)]
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterServiceStackClientTests(RedisClusterFixture redis, ITestOutputHelper output) : ServiceStackClientTests(output)
{
    private readonly string _prefix = "n" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

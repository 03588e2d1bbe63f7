using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ServerEvents.Sse;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Api;

/// <summary>Registration and mapping as an ASP.NET Core developer expects them, on the memory back-end.</summary>
public sealed class RegistrationTests
{
    public sealed class AppHub : ServerEventsHubBase;

    public sealed class OtherHub : ServerEventsHubBase;

    [Fact]
    public async Task An_apps_own_hub_is_mapped_by_both_MapServerEvents_forms()
    {
        await using var server = await AppServer.StartAsync(s => s.AddServerEvents<AppHub>(), app =>
        {
            app.MapServerEvents("/hub");
            app.MapServerEvents<AppHub>("/typed", o => o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets);
        });
        await using var plain = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));
        await using var typed = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/typed?channels=home"));

        await server.ServerEvents.NotifyChannelAsync("home", "cmd.chat", new { text = "hi" }).DefaultTimeout();
        await plain.WaitForAsync("cmd.chat", "home");
        await typed.WaitForAsync("cmd.chat", "home");
        Assert.Equal(2, (await server.ServerEvents.GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout()).Count);
    }

    [Fact]
    public async Task Mapping_a_hub_Server_Events_is_not_bound_to_says_which_one_is()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AppServer.StartAsync(s => s.AddServerEvents<AppHub>(), app => app.MapServerEvents<OtherHub>("/hub")));
        Assert.Equal("Server Events is bound to hub AppHub, not OtherHub: register it with services.AddServerEvents<OtherHub>().", error.Message);

        var unregistered = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AppServer.StartAsync(_ => { }, app => app.MapServerEvents("/hub")));
        Assert.Equal("Call services.AddServerEvents() before mapping the Server Events hub.", unregistered.Message);
    }

    [Fact]
    public async Task The_builder_carries_on_with_SignalRs_own_builder()
    {
        await using var server = await AppServer.StartAsync(
            s =>
            {
                var builder = s.AddServerEvents();
                Assert.Same(s, builder.Services);
                Assert.Equal(typeof(ServerEventsHub), builder.HubType);
                builder.SignalR.AddMessagePackProtocol();
            },
            app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"), messagePack: true);

        await server.ServerEvents.NotifyChannelAsync("home", "cmd.chat", new { text = "packed" }).DefaultTimeout();
        Assert.Equal("{\"text\":\"packed\"}", (await client.WaitForAsync("cmd.chat", "home")).Json);
    }

    [Fact]
    public async Task Options_bind_from_the_ServerEvents_section_and_code_runs_after_it()
    {
        await using var server = await StartWithConfigurationAsync(
            new()
            {
                ["ServerEvents:IdleTimeout"] = "00:00:40",
                ["ServerEvents:HeartbeatInterval"] = "00:00:07",
                ["ServerEvents:MaxChannelsPerSubscription"] = "3",
                ["ServerEvents:ChannelNames:Pattern"] = "[a-z]+",
                ["ServerEvents:Sse:StreamPath"] = "/stream",
                ["ServerEvents:Sse:MaxStreamsPerUser"] = "7",
            },
            o => o.MaxChannelsPerSubscription = 4);

        var options = server.Services.GetRequiredService<IOptions<ServerEventsOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(40), options.IdleTimeout);
        Assert.Equal(4, options.MaxChannelsPerSubscription);
        var bridge = server.Services.GetRequiredService<IOptions<SseBridgeOptions>>().Value;
        Assert.Equal(7, bridge.MaxStreamsPerUser);

        // The bound pattern is enforced (a Regex option could not have been bound): a hub client is refused, an SSE stream gets 400.
        var refused = await TestClient.ConnectRefusedAsync(new Uri(server.BaseUri, "/hub?channels=Home1"));
        Assert.Contains("does not match the pattern '[a-z]+'", refused, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        using (var bad = await http.GetAsync("/stream?channels=Home1", HttpCompletionOption.ResponseHeadersRead).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));
        Assert.Equal("40000", client.ConnectInfo["idleTimeoutMs"]);
        Assert.Equal("7000", client.ConnectInfo["heartbeatIntervalMs"]);
        using var stream = await http.GetAsync("/stream?channels=home", HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Every_broken_setting_stops_the_start_with_its_reason()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new()
        {
            ["ServerEvents:IdleTimeout"] = "00:00:10",
            ["ServerEvents:HeartbeatInterval"] = "00:00:10",
            ["ServerEvents:HouseKeepingInterval"] = "00:00:00",
            ["ServerEvents:HistoryPerTarget"] = "-1",
            ["ServerEvents:ChannelNames:Pattern"] = "[a-",
        }));
        Assert.Contains(failure.Failures, f => f.StartsWith("HeartbeatInterval (00:00:10) must be shorter than IdleTimeout (00:00:10)", StringComparison.Ordinal));
        Assert.Contains("HouseKeepingInterval must be positive (is 00:00:00).", failure.Failures);
        Assert.Contains("HistoryPerTarget must be 0 or more (is -1).", failure.Failures);
        Assert.Contains(failure.Failures, f => f.StartsWith("ChannelNames.Pattern '[a-' is not a valid regular expression", StringComparison.Ordinal));

        var sse = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new()
        {
            ["ServerEvents:Sse:HeartbeatPath"] = "event-heartbeat",
            ["ServerEvents:Sse:UnRegisterPath"] = "/event-stream",
            ["ServerEvents:Sse:KeepAliveInterval"] = "-00:00:01",
        }));
        Assert.Contains("HeartbeatPath 'event-heartbeat' must be a plain path starting with '/' (or null to turn the endpoint off).", sse.Failures);
        Assert.Contains("StreamPath and UnRegisterPath are both '/event-stream'.", sse.Failures);
        Assert.Contains("KeepAliveInterval must be positive (is -00:00:01).", sse.Failures);
    }

    [Fact]
    public async Task Sse_endpoints_set_to_null_are_neither_mapped_nor_advertised()
    {
        await using var server = await AppServer.StartAsync(
            s => s.AddServerEvents().AddSseBridge(o =>
            {
                o.HeartbeatPath = null;
                o.SubscribersPath = null;
            }),
            app => app.MapServerEventsSse());
        await using var sse = await SseTestClient.ConnectAsync(server.BaseUri, "channels=home");

        Assert.False(sse.ConnectInfo.ContainsKey("heartbeatUrl"));
        Assert.False(sse.ConnectInfo.ContainsKey("updateSubscriberUrl"));
        Assert.Equal(new Uri(server.BaseUri, $"/event-unregister?id={sse.Id}").ToString(), sse.ConnectInfo["unRegisterUrl"]);
        // Their DTO routes are off with them; unregister's stays.
        foreach (var path in new[] { $"/event-heartbeat?id={sse.Id}", "/event-subscribers", $"/event-subscribers/{sse.Id}", "/api/GetEventSubscribers", "/json/reply/UpdateEventSubscriber" })
        {
            using var response = await sse.Http.PostAsync(new Uri(server.BaseUri, path), null).DefaultTimeout();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using var unregister = await sse.Http.PostAsync(new Uri(server.BaseUri, $"/api/UnRegisterEventSubscriber?id={sse.Id}"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, unregister.StatusCode);
    }

    [Fact]
    public async Task Under_a_path_base_and_a_route_group_the_sse_urls_keep_both()
    {
        await using var server = await AppServer.StartAsync(
            s => s.AddServerEvents().AddSseBridge(),
            app =>
            {
                app.UsePathBase("/app");
                app.UseRouting();
                app.MapGroup("/sse").MapServerEventsSse();
            });
        await using var sse = await SseTestClient.ConnectAsync(new Uri(server.BaseUri, "/app/sse/"), "channels=home");

        var root = new Uri(server.BaseUri, "/app/sse").ToString();
        Assert.Equal($"{root}/event-heartbeat?id={sse.Id}", sse.ConnectInfo["heartbeatUrl"]);
        Assert.Equal($"{root}/event-unregister?id={sse.Id}", sse.ConnectInfo["unRegisterUrl"]);
        using var beat = await sse.Http.PostAsync(new Uri(sse.ConnectInfo["heartbeatUrl"]), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        using var unregister = await sse.Http.PostAsync(new Uri(sse.ConnectInfo["unRegisterUrl"]), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, unregister.StatusCode);
    }

    [Fact]
    public async Task Route_prefixes_from_configuration_replace_the_default()
    {
        await using var server = await StartWithConfigurationAsync(new() { ["ServerEvents:Sse:ServiceRoutePrefixes:0"] = "/api" });
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        using (var listed = await http.GetAsync("/api/GetEventSubscribers").DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }
        using var gone = await http.GetAsync("/json/reply/GetEventSubscribers").DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var twice = await Assert.ThrowsAsync<OptionsValidationException>(() => StartWithConfigurationAsync(new()
        {
            ["ServerEvents:Sse:ServiceRoutePrefixes:0"] = "/api",
            ["ServerEvents:Sse:ServiceRoutePrefixes:1"] = "/api/",
        }));
        Assert.Contains("ServiceRoutePrefixes names '/api' more than once.", twice.Failures);
    }

    [Fact]
    public async Task AddRedisFromConfiguration_never_falls_back_to_memory_silently()
    {
        var services = new ServiceCollection();
        var empty = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ServerEvents:Rediss"] = "typo:6379" }).Build();
        var missing = Assert.Throws<InvalidOperationException>(() => services.AddServerEvents().AddRedisFromConfiguration(empty));
        Assert.Equal("Server Events needs Redis, but the configuration sets neither 'ServerEvents:Redis' nor 'ConnectionStrings:Redis'.", missing.Message);

        // Optional: the memory back-end, a warning at start-up, and a health check that says so.
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddServerEvents().AddRedisFromConfiguration(empty, required: false);
                s.AddHealthChecks().AddServerEvents();
            },
            app => app.MapServerEvents("/hub"));
        Assert.Contains(FailureLog.Snapshot, m => m.Contains(" Warning ServerEvents.Redis.Internal.MemoryBackendWarning: Server Events runs on the memory back-end", StringComparison.Ordinal));
        var report = await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().DefaultTimeout();
        var entry = report.Entries["server-events"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("memory", entry.Data["backend"]);
        Assert.Equal("Memory back-end: this server shares no subscriptions or events with any other.", entry.Description);
    }

    [Fact]
    public async Task Redis_settings_bind_from_configuration_and_are_checked_at_start_up()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => AppServer.StartAsync(
            s =>
            {
                s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["ServerEvents:RedisBackplane:Prefix"] = "my app",
                    ["ServerEvents:RedisBackplane:AckTimeout"] = "00:00:00",
                }).Build());
                // Never reached: the start stops at the settings, before any connection is tried.
                s.AddServerEvents().AddRedis("127.0.0.1:1");
            },
            app => app.MapServerEvents("/hub")));
        Assert.Contains("Prefix 'my app' must be non-empty, without whitespace or control characters.", failure.Failures);
        Assert.Contains("AckTimeout must be positive (is 00:00:00).", failure.Failures);
    }

    private static Task<AppServer> StartWithConfigurationAsync(Dictionary<string, string?> settings, Action<ServerEventsOptions>? configure = null) =>
        AppServer.StartAsync(
            s =>
            {
                s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
                s.AddServerEvents(configure ?? (_ => { })).AddSseBridge();
            },
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });
}

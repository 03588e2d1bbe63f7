using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Sse;
using ServerEvents.Sse.Internal;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sse;

/// <summary>
/// The SSE bridge's behaviour on any back-end: ServiceStack's wire format and endpoints, SSE subscribers
/// as first-class subscriptions next to hub clients, and the security and limit checks. Clients and
/// requests are spread over servers 0, 1 and 2 (the same server on a one-server back-end).
/// </summary>
public abstract partial class SseBridgeSpecification
{
    protected abstract int ServerCount { get; }

    protected abstract void UseBackend(IServerEventsBuilder builder);

    protected Task<TestCluster> StartAsync(Action<ServerEventsOptions>? configure = null, Action<SseBridgeOptions>? bridge = null) =>
        TestCluster.StartAsync(ServerCount,
            services => UseBackend(services.AddServerEvents(configure ?? (_ => { })).AddSseBridge(bridge)),
            app =>
            {
                app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor });
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });

    private static Task<HttpResponseMessage> PostFormAsync(HttpClient http, Uri url, params (string Key, string Value)[] fields) =>
        http.PostAsync(url, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)))).DefaultTimeout();

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, Uri url, object body) =>
        http.PostAsync(url, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).DefaultTimeout();

    [Fact]
    public async Task An_sse_client_that_has_its_onConnect_gets_what_another_server_publishes_to_it_that_instant()
    {
        await using var cluster = await StartAsync();
        for (var i = 0; i < 120; i++)
        {
            var channel = $"ready{i}";
            // Returns the moment cmd.onConnect arrives: no waiting for cmd.onJoin.
            await using var client = await SseTestClient.ConnectAsync(cluster[i].BaseUri, $"channels={channel}", awaitJoins: false);
            await Specification.ServerEventsSpecification.PublishToAsync(cluster.Api(i + 1), i, channel, client.UserId).DefaultTimeout();
            var received = await client.WaitForAsync(f => f.Selector == "cmd.ready").WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Json);
            Assert.Equal("cmd.onConnect", client.Frames[0].Selector);
            var ids = client.Frames.Where(f => f.Id is not null).Select(f => f.Id!.Value).ToList();
            Assert.All(ids.Skip(1).Zip(ids), pair => Assert.True(pair.First > pair.Second, $"{pair.First} after {pair.Second}"));
        }
    }

    [Fact]
    public async Task Under_a_route_group_the_onConnect_urls_point_into_the_group_and_answer()
    {
        await using var cluster = await TestCluster.StartAsync(ServerCount,
            services => UseBackend(services.AddServerEvents().AddSseBridge()),
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapGroup("/sse").MapServerEventsSse();
            });
        await using var sse = await SseTestClient.ConnectAsync(new Uri(cluster[0].BaseUri, "/sse/"), "channels=home");

        var root = cluster[0].BaseUri.ToString().TrimEnd('/') + "/sse";
        Assert.Equal($"{root}/event-heartbeat?id={sse.Id}", sse.ConnectInfo["heartbeatUrl"]);
        Assert.Equal($"{root}/event-unregister?id={sse.Id}", sse.ConnectInfo["unRegisterUrl"]);
        Assert.Equal($"{root}/event-subscribers/{sse.Id}", sse.ConnectInfo["updateSubscriberUrl"]);
        using var beat = await sse.Http.PostAsync(new Uri(sse.ConnectInfo["heartbeatUrl"]), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
    }

    [Fact]
    public async Task Mapping_the_endpoints_without_AddSseBridge_says_what_to_call()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => TestCluster.StartAsync(1,
            services => UseBackend(services.AddServerEvents()),
            app => app.MapServerEventsSse()));
        Assert.Contains("AddSseBridge()", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sse_streams_are_counted_as_sse_connections_subscriptions_and_deliveries()
    {
        await using var cluster = await StartAsync();
        using var connections = ClusterMetrics.Of<long>(cluster, "serverevents.connections");
        using var subscriptions = ClusterMetrics.Of<long>(cluster, "serverevents.subscriptions");
        using var deliveries = ClusterMetrics.Of<long>(cluster, "serverevents.deliveries");
        var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=counted");
        var hub = await cluster.ConnectAsync(1, "counted");
        // The hub client's join has reached the SSE stream: nothing more is on its way to server 0.
        await sse.WaitForAsync(f => f.Selector == "cmd.onJoin" && f.Meta["userId"] == hub.UserId);
        await Task.Delay(100);

        Assert.Equal(1, connections.Sum("serverevents.transport", "sse"));
        Assert.Equal(1, subscriptions.Sum("serverevents.transport", "sse"));
        Assert.Equal(1, subscriptions.Sum("serverevents.transport", "hub"));
        var before = deliveries.Servers[0].Sum();
        await cluster.Api(2).NotifyChannelAsync("counted", "cmd.chat", "to both").DefaultTimeout();
        await sse.WaitForAsync("cmd.chat", "counted");
        await hub.WaitForAsync(e => e.Selector == "cmd.chat");
        // Server 0 holds the SSE stream (and, on one server, the hub connection too).
        await Eventually.TrueAsync(() => Task.FromResult(deliveries.Servers[0].Sum() - before == (cluster.Count == 1 ? 2 : 1)), "the SSE delivery was not counted");

        await sse.DisposeAsync();
        await hub.DisposeAsync();
        await Eventually.TrueAsync(() => Task.FromResult(connections.Sum("serverevents.transport", "sse") == 0 && subscriptions.Sum() == 0),
            "the closed SSE stream is still counted");
    }

    [Fact]
    public async Task Stream_is_unbuffered_text_event_stream_and_starts_with_onConnect_then_onJoin()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home,news&t=12345");

        var headers = sse.Response;
        Assert.Equal("text/event-stream", headers.Content.Headers.ContentType!.MediaType);
        Assert.Contains("no-cache", headers.Headers.CacheControl!.ToString());
        Assert.Equal("no", headers.Headers.GetValues("X-Accel-Buffering").Single());

        var first = sse.Frames[0];
        Assert.Equal("cmd.onConnect", first.Selector);
        Assert.Null(first.Channel);
        Assert.NotNull(first.Id);
        using (var body = JsonDocument.Parse(first.Json))
        {
            Assert.All(body.RootElement.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
        }
        var info = sse.ConnectInfo;
        var root = cluster[0].BaseUri.ToString().TrimEnd('/');
        Assert.Equal($"{root}/event-heartbeat?id={sse.Id}", info["heartbeatUrl"]);
        Assert.Equal($"{root}/event-unregister?id={sse.Id}", info["unRegisterUrl"]);
        Assert.Equal($"{root}/event-subscribers/{sse.Id}", info["updateSubscriberUrl"]);
        Assert.Equal("home,news", info["channels"]);
        Assert.Equal("10000", info["heartbeatIntervalMs"]);
        Assert.Equal("30000", info["idleTimeoutMs"]);
        Assert.Matches("^[A-Za-z0-9_-]{20}$", sse.Id);

        var joinHome = await sse.WaitForAsync("cmd.onJoin", "home");
        await sse.WaitForAsync("cmd.onJoin", "news");
        Assert.Equal(sse.UserId, joinHome.Meta["userId"]);

        // Exact wire shape: "id: N\ndata: home@cmd.onJoin {...}\n\n", LF only.
        var raw = sse.Raw;
        Assert.DoesNotContain("\r", raw);
        Assert.StartsWith($"id: {first.Id}\ndata: cmd.onConnect {{", raw);
        Assert.Contains("\ndata: home@cmd.onJoin {", raw);
        Assert.DoesNotContain("event:", raw);
        Assert.DoesNotContain("retry:", raw);
    }

    [Fact]
    public async Task A_stream_reopened_with_Last_Event_ID_on_another_server_gets_what_it_missed_in_order()
    {
        await using var cluster = await StartAsync();
        var first = await SseTestClient.ConnectAsync(cluster[0].BaseUri);
        await first.WaitForAsync("cmd.onJoin", "home");
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.seq", -1).DefaultTimeout();
        var last = (await first.WaitForAsync("cmd.seq")).Id!.Value;
        await first.DisposeAsync();
        for (var i = 0; i < 30; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }

        await using var resumed = await SseTestClient.ConnectAsync(cluster[cluster.Count - 1].BaseUri, lastEventId: last);
        await resumed.WaitForAsync(f => f.Selector == "cmd.onJoin" && f.Meta["userId"] == resumed.UserId);
        await cluster.Api(1).NotifyChannelAsync("home", "cmd.seq", 30).DefaultTimeout();
        var frames = await resumed.BarrierAsync(cluster.Api(0));
        Assert.Equal("cmd.onConnect", frames[0].Selector);
        Assert.Equal(Enumerable.Range(0, 31).Select(i => i.ToString()), frames.Where(f => f.Selector == "cmd.seq").Select(f => f.Json));
        var ids = frames.Skip(1).Select(f => f.Id!.Value).ToList();
        Assert.All(ids.Zip(ids.Skip(1)), pair => Assert.True(pair.Second > pair.First));

        // An id this cluster never issued (from before a restart of its history): the explicit reset, not a silent gap.
        // Ids follow the clock in µs, so "never issued" is days ahead: a second ahead is issued a second later, and a
        // loaded machine took that long here once.
        var neverIssued = last + (long)TimeSpan.FromDays(10).TotalMicroseconds;
        await using var stale = await SseTestClient.ConnectAsync(cluster[0].BaseUri, lastEventId: neverIssued);
        Assert.Equal(neverIssued.ToString(), (await stale.WaitForAsync("cmd.onReset")).Meta["lastEventId"]);
    }

    [Fact]
    public async Task An_idle_stream_gets_keep_alive_comments_that_clients_ignore()
    {
        await using var cluster = await StartAsync(bridge: b => b.KeepAliveInterval = TimeSpan.FromMilliseconds(150));
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        await sse.WaitForAsync("cmd.onJoin", "home");
        var framesBefore = sse.Frames.Count;

        await Eventually.TrueAsync(() => Task.FromResult(sse.Raw.Contains("\n: keep-alive\n", StringComparison.Ordinal)), "no keep-alive comment on an idle stream");

        Assert.Equal(framesBefore, sse.Frames.Count);
        await cluster.Api(0).NotifyChannelAsync("home", "cmd.after", 1).DefaultTimeout();
        await sse.WaitForAsync("cmd.after", "home");
    }

    [Fact]
    public async Task Every_notify_target_reaches_sse_subscribers_with_ServiceStack_prefixes()
    {
        await using var cluster = await StartAsync(o => o.AllowSessionIdsInHttpParams = true);
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home&ss-id=sess-1", user: "u7;uma");
        var api = cluster.Api(1);

        await api.NotifyChannelAsync("home", "cmd.chat", new { text = "hi" }).DefaultTimeout();
        await api.NotifyAllAsync("cmd.all", 1).DefaultTimeout();
        await api.NotifySubscriptionAsync(sse.Id, "cmd.sub", 2, channel: "home").DefaultTimeout();
        await api.NotifyUserIdAsync("u7", "cmd.uid", 3).DefaultTimeout();
        await api.NotifyUserNameAsync("uma", "cmd.uname", 4).DefaultTimeout();
        await api.NotifySessionAsync("sess-1", "cmd.session", 5).DefaultTimeout();
        await api.NotifyChannelJsonAsync("home", "css.background$#top", "\"#673ab7\"").DefaultTimeout();
        await api.NotifyChannelJsonAsync("home", "tv.watch", "\"https://youtu.be/x\"").DefaultTimeout();

        var chat = await sse.WaitForAsync("cmd.chat");
        Assert.Equal("home", chat.Channel);
        Assert.Equal("{\"text\":\"hi\"}", chat.Json);
        foreach (var (selector, json) in new[] { ("cmd.all", "1"), ("cmd.sub", "2"), ("cmd.uid", "3"), ("cmd.uname", "4"), ("cmd.session", "5") })
        {
            var frame = await sse.WaitForAsync(selector);
            Assert.Null(frame.Channel); // ServiceStack prefixes channel sends only, even with a channel filter
            Assert.Equal(json, frame.Json);
        }
        Assert.Equal("home", (await sse.WaitForAsync("css.background$#top")).Channel);
        Assert.Equal("\"https://youtu.be/x\"", (await sse.WaitForAsync("tv.watch")).Json);
        Assert.Contains("\ndata: home@css.background$#top \"#673ab7\"\n\n", sse.Raw);

        // Ids are unique, and increase with every event of one publisher (here server 1; the lifecycle events
        // came from server 0 and may interleave with server 1's first notify).
        Assert.Equal(sse.Frames.Count, sse.Frames.Select(f => f.Id).Distinct().Count());
        var ids = sse.Frames.Where(f => !f.Selector.StartsWith("cmd.on", StringComparison.Ordinal)).Select(f => f.Id!.Value).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Hub_group_sends_reach_sse_subscribers_of_that_channel()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var hub = cluster[1].HubContext<ServerEventsHub>();

        await hub.Clients.Group("home").SendAsync("chatMessage", new { from = "hub", text = "hello" }).DefaultTimeout();
        await hub.Clients.Group("home").SendAsync("pair", 1, "two").DefaultTimeout();

        var single = await sse.WaitForAsync("cmd.chatMessage");
        Assert.Null(single.Id);
        Assert.Equal("{\"from\":\"hub\",\"text\":\"hello\"}", single.Json);
        Assert.Equal("[1,\"two\"]", (await sse.WaitForAsync("cmd.pair")).Json);
    }

    [Fact]
    public async Task Hub_and_sse_subscribers_on_different_servers_see_each_other()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var hub = await cluster.ConnectAsync(1, "home");

        await sse.WaitForAsync(f => f.Selector == "cmd.onJoin" && f.Meta["userId"] == hub.UserId);
        var subscribers = await cluster.Api(2).GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout();
        Assert.Equal(new[] { sse.UserId, hub.UserId }.Order(), subscribers.Select(s => s["userId"]).Order());

        await cluster.Api(2).NotifyChannelAsync("home", "cmd.chat", "both").DefaultTimeout();
        await sse.WaitForAsync("cmd.chat", "home");
        await hub.WaitForAsync("cmd.chat", "home");

        await sse.UnRegisterAsync();
        await hub.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == sse.UserId);
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task Heartbeat_on_any_server_pulses_and_pushes_onHeartbeat_unknown_ids_get_404()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var before = (await cluster.Api(0).GetSubscriptionInfoAsync(sse.Id).DefaultTimeout())!.LastPulseAt;

        // Heartbeat through server 1 (the URL from onConnect names server 0; any server must do).
        using var beat = await sse.Http.PostAsync(new Uri(cluster[1].BaseUri, $"/event-heartbeat?id={sse.Id}"), new StringContent("", Encoding.UTF8, "text/plain")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        Assert.Equal("", await beat.Content.ReadAsStringAsync());
        var heartbeat = await sse.WaitForAsync("cmd.onHeartbeat");
        Assert.Null(heartbeat.Channel);
        Assert.Equal(sse.UserId, heartbeat.Meta["userId"]);
        var after = (await cluster.Api(2).GetSubscriptionInfoAsync(sse.Id).DefaultTimeout())!.LastPulseAt;
        Assert.True(after >= before);

        using var unknown = await sse.Http.PostAsync(new Uri(cluster[2].BaseUri, "/event-heartbeat?id=nope"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Subscription 'nope' does not exist", unknown.ReasonPhrase);
    }

    [Fact]
    public async Task A_stream_without_heartbeats_ends_after_the_idle_timeout_with_leave_events()
    {
        await using var cluster = await StartAsync(o =>
        {
            o.IdleTimeout = TimeSpan.FromMilliseconds(1500);
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
            o.HouseKeepingInterval = TimeSpan.FromMilliseconds(200);
        });
        var watcher = await cluster.ConnectAsync(1, "home");
        await using var beating = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        await using var silent = await SseTestClient.ConnectAsync(cluster[2].BaseUri, "channels=home");

        // Heartbeats go on until the last check, so a stall of the test cannot make the beating stream idle too.
        using var stopBeating = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            while (!stopBeating.IsCancellationRequested)
            {
                (await beating.HeartbeatAsync()).Dispose();
                await Task.Delay(300, CancellationToken.None);
            }
        });

        await silent.Ended.DefaultTimeout();
        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == silent.UserId);
        Assert.Null(await cluster.Api(0).GetSubscriptionInfoAsync(silent.Id).DefaultTimeout());
        Assert.False(beating.Ended.IsCompleted, "the stream that sent heartbeats was closed too");
        Assert.NotNull(await cluster.Api(1).GetSubscriptionInfoAsync(beating.Id).DefaultTimeout());
        await stopBeating.CancelAsync();
        await heartbeats.DefaultTimeout();
    }

    [Fact]
    public async Task Unregister_answers_meta_ends_the_stream_and_sends_leave()
    {
        await using var cluster = await StartAsync();
        var watcher = await cluster.ConnectAsync(1, "home");
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");

        using var response = await sse.Http.PostAsync(new Uri(cluster[2].BaseUri, $"/event-unregister?id={sse.Id}"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var meta = JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(sse.UserId, meta["userId"]);
        Assert.False(meta.ContainsKey("id"));

        await sse.Ended.DefaultTimeout();
        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == sse.UserId);
        Assert.Null(await cluster.Api(1).GetSubscriptionInfoAsync(sse.Id).DefaultTimeout());

        using var again = await sse.Http.PostAsync(new Uri(cluster[0].BaseUri, $"/api/UnRegisterEventSubscriber?id={sse.Id}"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        using var error = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal("NotFound", error.RootElement.GetProperty("responseStatus").GetProperty("errorCode").GetString());
        Assert.Contains(sse.Id, error.RootElement.GetProperty("responseStatus").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Subscriber_lists_answer_on_every_route_for_hub_and_sse_subscriptions()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var hub = await cluster.ConnectAsync(1, "home,other");
        await cluster.ConnectAsync(2, "elsewhere");

        foreach (var path in new[] { "/event-subscribers?channels=home", "/api/GetEventSubscribers?channels=home", "/json/reply/GetEventSubscribers?channel=home" })
        {
            var list = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(await sse.Http.GetStringAsync(new Uri(cluster[2].BaseUri, path)).DefaultTimeout())!;
            Assert.Equal(new[] { sse.UserId, hub.UserId }.Order(), list.Select(m => m["userId"]).Order());
            Assert.All(list, m => Assert.False(m.ContainsKey("id")));
        }
        var posted = await PostJsonAsync(sse.Http, new Uri(cluster[1].BaseUri, "/api/GetEventSubscribers"), new { channels = new[] { "home", "elsewhere" } });
        Assert.Equal(3, JsonSerializer.Deserialize<List<Dictionary<string, string>>>(await posted.Content.ReadAsStringAsync())!.Count);
        var all = JsonSerializer.Deserialize<List<Dictionary<string, string>>>(await sse.Http.GetStringAsync(new Uri(cluster[0].BaseUri, "/event-subscribers")).DefaultTimeout())!;
        Assert.Equal(3, all.Count);
    }

    [Fact]
    public async Task Channel_updates_work_through_every_route_and_input_form()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var api = cluster.Api(0);

        // ss-utils: form-encoded POST to updateSubscriberUrl, comma lists.
        using (var form = await PostFormAsync(sse.Http, new Uri(sse.ConnectInfo["updateSubscriberUrl"]), ("SubscribeChannels", "news,sport")))
        {
            Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        }
        var update = await sse.WaitForAsync(f => f.Selector == "cmd.onUpdate" && f.Meta["channels"] == "home,news,sport");
        Assert.NotNull(update.Channel);
        // TS / C# clients: JSON DTO to /api/UpdateEventSubscriber (and the older /json/reply form).
        using (var json = await PostJsonAsync(sse.Http, new Uri(cluster[1].BaseUri, "/api/UpdateEventSubscriber"), new { id = sse.Id, unsubscribeChannels = new[] { "sport" } }))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        }
        using (var reply = await PostJsonAsync(sse.Http, new Uri(cluster[2].BaseUri, "/json/reply/UpdateEventSubscriber"), new { Id = sse.Id, SubscribeChannels = new[] { "extra" }, UnsubscribeChannels = new[] { "home" } }))
        {
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        }
        // Query string form.
        using (var query = await sse.Http.GetAsync(new Uri(cluster[0].BaseUri, $"/event-subscribers/{sse.Id}?subscribeChannels=last")).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        }

        await Eventually.TrueAsync(async () => string.Join(',', (await api.GetSubscriptionInfoAsync(sse.Id))!.Channels) == "news,extra,last", "channels were not updated");
        await api.NotifyChannelAsync("extra", "cmd.extra", 1).DefaultTimeout();
        await api.NotifyChannelAsync("home", "cmd.home", 1).DefaultTimeout();
        var frames = await sse.BarrierAsync(api);
        Assert.Contains(frames, f => f.Selector == "cmd.extra" && f.Channel == "extra");
        Assert.DoesNotContain(frames, f => f.Selector == "cmd.home");
    }
}

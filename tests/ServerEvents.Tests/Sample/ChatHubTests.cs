using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sample;

/// <summary>
/// ServiceStack Chat's HTTP API on the ChatHub sample, run as a process exactly as the README starts it:
/// one instance on the memory back-end, or three instances sharing one redis-server.
/// </summary>
public abstract class ChatHubSpecification : IAsyncLifetime
{
    private readonly List<HostProcess> _instances = [];
    private static readonly HttpClient _http = new();

    protected abstract Task<IReadOnlyList<HostProcess>> StartInstancesAsync();

    protected HostProcess Instance(int index) => _instances[index % _instances.Count];

    public async Task InitializeAsync() => _instances.AddRange(await StartInstancesAsync());

    public virtual async Task DisposeAsync()
    {

        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }

    protected Uri Url(int instance, string path) => new(Instance(instance).BaseUri, path);

    protected Task<HttpResponseMessage> PostFormAsync(int instance, string path, params (string, string)[] fields) =>
        _http.PostAsync(Url(instance, path), new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)))).DefaultTimeout();

    private Task<HttpResponseMessage> PostJsonAsync(int instance, string path, object body) =>
        _http.PostAsync(Url(instance, path), new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).DefaultTimeout();

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static string UniqueChannel() => "c" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task The_page_and_its_browser_libraries_are_served()
    {
        var page = await _http.GetStringAsync(Url(0, "/")).DefaultTimeout();
        Assert.Contains("<title>ChatHub</title>", page);
        foreach (var asset in new[] { "/app.js", "/app.css", "/lib/signalr.js", "/lib/servicestack-client.mjs" })
        {
            using var response = await _http.GetAsync(Url(0, asset)).DefaultTimeout();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {response.StatusCode}");
        }
        Assert.Equal("Healthy", await _http.GetStringAsync(Url(0, "/health")).DefaultTimeout());
    }

    [Fact]
    public async Task Metrics_the_status_view_and_the_health_endpoints_show_each_instance()
    {
        var channel = UniqueChannel();
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));
        await using var sse = await SseTestClient.ConnectAsync(Instance(1).BaseUri, $"channels={channel}");
        for (var i = 0; i < 5; i++)
        {
            using var posted = await PostFormAsync(2, $"/channels/{channel}/chat", ("from", hub.Id), ("message", $"m{i}"));
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }
        await sse.WaitForAsync(f => f.Selector == "cmd.chat" && f.Json.Contains("\"m4\"", StringComparison.Ordinal));

        // Prometheus text, from the ServerEvents meter through OpenTelemetry.
        var metrics = await _http.GetStringAsync(Url(0, "/metrics")).DefaultTimeout();
        Assert.Contains("# TYPE serverevents_deliveries_total counter", metrics, StringComparison.Ordinal);
        Assert.Equal(1, PrometheusValue(metrics, "serverevents_subscriptions", "serverevents_transport=\"hub\""));

        // Each instance's card, on every instance's status view (the other instances' through Redis).
        var distinct = Enumerable.Range(0, 3).Select(Instance).Distinct().ToList();
        JsonElement status = default;
        await Eventually.TrueAsync(async () =>
        {
            status = await JsonOf(await _http.GetAsync(Url(2, "/status.json")).DefaultTimeout());
            var publisher = status.GetProperty("servers").EnumerateArray().SingleOrDefault(c => c.GetProperty("url").GetString() == Instance(2).BaseUri.ToString());
            return status.GetProperty("servers").GetArrayLength() == distinct.Count
                && publisher.ValueKind == JsonValueKind.Object
                && publisher.GetProperty("notifiesPerSecond").EnumerateArray().Sum(v => v.GetInt64()) >= 5
                && status.GetProperty("servers").EnumerateArray().Sum(c => c.GetProperty("deliveriesPerSecond").EnumerateArray().Sum(v => v.GetInt64())) >= 10;
        }, "every instance's card, the 5 chat notifies on the publishing one and their 10 deliveries");
        var cards = status.GetProperty("servers").EnumerateArray().ToDictionary(c => c.GetProperty("url").GetString()!);
        Assert.Equal(1, cards[Instance(0).BaseUri.ToString()].GetProperty("subscriptions").GetProperty("hub").GetInt32());
        Assert.Equal(1, cards[Instance(1).BaseUri.ToString()].GetProperty("subscriptions").GetProperty("sse").GetInt32());
        var onRedis = status.GetProperty("backend").GetString() == "redis";
        Assert.All(cards.Values, card =>
        {
            Assert.Equal(onRedis ? JsonValueKind.Object : JsonValueKind.Null, card.GetProperty("redis").ValueKind);
            if (onRedis)
            {
                Assert.Equal("up", card.GetProperty("redis").GetProperty("pubsub").GetString());
            }
        });
        foreach (var path in new[] { "/status", "/status.html" })
        {
            using var page = await _http.GetAsync(Url(0, path)).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("status.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("Healthy", await _http.GetStringAsync(Url(1, "/health/live")).DefaultTimeout());
        Assert.Equal("Healthy", await _http.GetStringAsync(Url(1, "/health/ready")).DefaultTimeout());
        await hub.DisposeAsync();
    }

    /// <summary>The value of the one sample of <paramref name="metric"/> whose labels contain <paramref name="label"/>.</summary>
    private static double PrometheusValue(string text, string metric, string label)
    {
        var line = text.Split('\n').Single(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_public_chat_reaches_hub_and_sse_users_on_every_instance_and_is_kept_in_history()
    {
        var channel = UniqueChannel();
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));
        await using var sse = await SseTestClient.ConnectAsync(Instance(1).BaseUri, $"channels={channel}");

        using var response = await PostFormAsync(2, $"/channels/{channel}/chat", ("from", hub.Id), ("message", "<b>hello</b> & welcome"), ("selector", "cmd.chat"), ("toUserId", ""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await JsonOf(response);
        Assert.Equal("&lt;b&gt;hello&lt;/b&gt; &amp; welcome", message.GetProperty("message").GetString());
        Assert.Equal(hub.UserId, message.GetProperty("fromUserId").GetString());
        Assert.Equal(hub.DisplayName, message.GetProperty("fromName").GetString());
        Assert.False(message.GetProperty("private").GetBoolean());
        Assert.Equal(channel, message.GetProperty("channel").GetString());
        var id = message.GetProperty("id").GetInt64();

        var viaHub = await hub.WaitForAsync("cmd.chat", channel);
        Assert.Equal(id, viaHub.Body.GetProperty("id").GetInt64());
        var viaSse = await sse.WaitForAsync("cmd.chat", channel);
        Assert.Equal(id, JsonDocument.Parse(viaSse.Json).RootElement.GetProperty("id").GetInt64());

        for (var instance = 0; instance < 3; instance++)
        {
            var history = await JsonOf(await _http.GetAsync(Url(instance, $"/chathistory?channels={channel}")).DefaultTimeout());
            Assert.Equal(id, Assert.Single(history.GetProperty("results").EnumerateArray()).GetProperty("id").GetInt64());
        }
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task A_private_message_reaches_the_user_and_the_sender_gets_an_addressed_copy()
    {
        var channel = UniqueChannel();
        var sender = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));
        await using var target = await SseTestClient.ConnectAsync(Instance(1).BaseUri, $"channels={channel}");
        var bystander = await TestClient.ConnectAsync(new Uri(Instance(2).BaseUri, $"/hub?channels={channel}"));

        using var response = await PostJsonAsync(1, "/api/PostChatToChannel", new { from = sender.Id, toUserId = target.UserId, channel, message = "psst", selector = "cmd.chat" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await JsonOf(response)).GetProperty("private").GetBoolean());

        var received = await target.WaitForAsync("cmd.chat");
        Assert.Null(received.Channel);
        Assert.Equal("psst", JsonDocument.Parse(received.Json).RootElement.GetProperty("message").GetString());
        var copy = await sender.WaitForAsync("cmd.chat");
        Assert.Equal($"@{target.ConnectInfo["displayName"]}: psst", copy.Body.GetProperty("message").GetString());
        Assert.DoesNotContain(await bystander.BarrierAsync(RawTo(bystander)), e => e.Selector == "cmd.chat");
        var history = await JsonOf(await _http.GetAsync(Url(0, $"/api/GetChatHistory?channels={channel}")).DefaultTimeout());
        Assert.Empty(history.GetProperty("results").EnumerateArray());
        await sender.DisposeAsync();
        await bystander.DisposeAsync();
    }

    [Fact]
    public async Task Raw_commands_reach_the_channel_or_one_user_as_JSON_strings()
    {
        var channel = UniqueChannel();
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));
        await using var sse = await SseTestClient.ConnectAsync(Instance(1).BaseUri, $"channels={channel}");

        using (var css = await PostFormAsync(2, $"/channels/{channel}/raw", ("from", sse.Id), ("selector", "css.background"), ("message", "#eceff1")))
        {
            Assert.Equal(HttpStatusCode.NoContent, css.StatusCode);
        }
        Assert.Equal("\"#eceff1\"", (await hub.WaitForAsync("css.background", channel)).Json);
        await sse.WaitForAsync("css.background", channel);
        Assert.Contains($"\ndata: {channel}@css.background \"#eceff1\"\n", sse.Raw);

        using (var off = await PostJsonAsync(0, "/api/PostRawToChannel", new { from = hub.Id, channel, selector = "tv.off" }))
        {
            Assert.Equal(HttpStatusCode.NoContent, off.StatusCode);
        }
        Assert.Equal("", (await sse.WaitForAsync("tv.off", channel)).Json);

        using (var direct = await PostFormAsync(1, $"/channels/{channel}/raw", ("from", hub.Id), ("toUserId", sse.UserId), ("selector", "document.title"), ("message", "<new>")))
        {
            Assert.Equal(HttpStatusCode.NoContent, direct.StatusCode);
        }
        var title = await sse.WaitForAsync("document.title");
        Assert.Null(title.Channel);
        Assert.Equal("&lt;new&gt;", JsonSerializer.Deserialize<string>(title.Json));
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task Bad_chat_requests_get_clear_4xx_and_send_nothing()
    {
        var channel = UniqueChannel();
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));

        using var unknown = await PostFormAsync(1, $"/channels/{channel}/chat", ("from", "nobody"), ("message", "hi"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Subscription nobody does not exist", (await JsonOf(unknown)).GetProperty("responseStatus").GetProperty("message").GetString());
        using var empty = await PostFormAsync(1, $"/channels/{channel}/chat", ("from", hub.Id), ("message", "  "));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        using var huge = await PostFormAsync(1, $"/channels/{channel}/chat", ("from", hub.Id), ("message", new string('x', 5000)));
        Assert.Equal(HttpStatusCode.BadRequest, huge.StatusCode);
        Assert.Contains("longer than", (await JsonOf(huge)).GetProperty("responseStatus").GetProperty("message").GetString());
        using var missingFrom = await PostFormAsync(1, $"/channels/{channel}/chat", ("message", "hi"));
        Assert.Equal(HttpStatusCode.BadRequest, missingFrom.StatusCode);
        using var badJson = await _http.PostAsync(Url(2, "/api/PostChatToChannel"), new StringContent("{oops", Encoding.UTF8, "application/json")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        using var badSelector = await PostFormAsync(1, $"/channels/{channel}/raw", ("from", hub.Id), ("selector", "no selector"), ("message", "x"));
        Assert.Equal(HttpStatusCode.BadRequest, badSelector.StatusCode);
        // Lifecycle selectors would make every member's client take the message for its own connect or reset.
        using var forgedConnect = await PostFormAsync(1, $"/channels/{channel}/chat", ("from", hub.Id), ("selector", "cmd.onConnect"), ("message", "forged"));
        Assert.Equal(HttpStatusCode.BadRequest, forgedConnect.StatusCode);
        Assert.Contains("lifecycle", (await JsonOf(forgedConnect)).GetProperty("responseStatus").GetProperty("message").GetString());
        using var forgedReset = await PostFormAsync(2, $"/channels/{channel}/raw", ("from", hub.Id), ("selector", "cmd.onReset"), ("message", "\"forged\""));
        Assert.Equal(HttpStatusCode.BadRequest, forgedReset.StatusCode);

        var seen = await hub.BarrierAsync(RawTo(hub));
        Assert.DoesNotContain(seen, e => !e.Selector.StartsWith("cmd.on", StringComparison.Ordinal));
        Assert.DoesNotContain(seen, e => e.Json.Contains("forged", StringComparison.Ordinal));
        var history = await JsonOf(await _http.GetAsync(Url(0, $"/chathistory?channels={channel}")).DefaultTimeout());
        Assert.Empty(history.GetProperty("results").EnumerateArray());
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task History_pages_by_afterId_and_take_and_message_ids_are_global()
    {
        var (a, b) = (UniqueChannel(), UniqueChannel());
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={a},{b}"));
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            using var posted = await PostFormAsync(i, $"/channels/{(i % 2 == 0 ? a : b)}/chat", ("from", hub.Id), ("message", $"m{i}"));
            ids.Add((await JsonOf(posted)).GetProperty("id").GetInt64());
        }
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(6, ids.Distinct().Count());

        var all = await JsonOf(await _http.GetAsync(Url(1, $"/chathistory?channels={a},{b}")).DefaultTimeout());
        Assert.Equal(ids, all.GetProperty("results").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
        var after = await JsonOf(await _http.GetAsync(Url(2, $"/chathistory?channels={a},{b}&afterId={ids[3]}")).DefaultTimeout());
        Assert.Equal(ids.Skip(4), after.GetProperty("results").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
        var last = await JsonOf(await _http.GetAsync(Url(0, $"/chathistory?channels={a}&take=1")).DefaultTimeout());
        Assert.Equal(ids[4], Assert.Single(last.GetProperty("results").EnumerateArray()).GetProperty("id").GetInt64());
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task Reset_routes_need_the_admin_key_and_clear_history_and_subscriptions()
    {
        var channel = UniqueChannel();
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, $"/hub?channels={channel}"));
        (await PostFormAsync(0, $"/channels/{channel}/chat", ("from", hub.Id), ("message", "keep?"))).Dispose();
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var admin = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        admin.DefaultRequestHeaders.Add(ChatRoutesAdminKeyHeader, ChatHubProcess.AdminKey);

        // Without the key (or with a wrong one) nothing is reset.
        foreach (var path in new[] { "/reset", "/reset-serverevents", "/api/ClearChatHistory", "/api/ResetServerEvents" })
        {
            using var refused = await noRedirects.PostAsync(Url(1, path), null).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using var wrongKey = await noRedirects.PostAsync(Url(2, path + "?key=guess"), null).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Forbidden, wrongKey.StatusCode);
        }
        Assert.NotEmpty((await JsonOf(await _http.GetAsync(Url(0, $"/chathistory?channels={channel}")).DefaultTimeout())).GetProperty("results").EnumerateArray());
        Assert.False(hub.Closed.IsCompleted);

        using var reset = await admin.GetAsync(Url(1, "/reset")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Redirect, reset.StatusCode);
        var history = await JsonOf(await _http.GetAsync(Url(0, $"/chathistory?channels={channel}")).DefaultTimeout());
        Assert.Empty(history.GetProperty("results").EnumerateArray());

        using var resetEvents = await _http.PostAsync(Url(2, $"/reset-serverevents?key={ChatHubProcess.AdminKey}"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, resetEvents.StatusCode);
        await hub.Closed.DefaultTimeout();
        var subscribers = await JsonOf(await _http.GetAsync(Url(0, $"/event-subscribers?channels={channel}")).DefaultTimeout());
        Assert.Empty(subscribers.EnumerateArray());

        // The /api/{DtoName} forms of both.
        var again = await TestClient.ConnectAsync(new Uri(Instance(1).BaseUri, $"/hub?channels={channel}"));
        (await PostFormAsync(1, $"/channels/{channel}/chat", ("from", again.Id), ("message", "again"))).Dispose();
        using (var clear = await admin.PostAsync(Url(2, "/api/ClearChatHistory"), JsonContent.Create(new { })).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.NoContent, clear.StatusCode);
        }
        history = await JsonOf(await _http.GetAsync(Url(1, $"/api/GetChatHistory?channels={channel}")).DefaultTimeout());
        Assert.Empty(history.GetProperty("results").EnumerateArray());
        using (var resetApi = await admin.PostAsync(Url(0, "/api/ResetServerEvents"), JsonContent.Create(new { })).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.NoContent, resetApi.StatusCode);
        }
        await again.Closed.DefaultTimeout();
    }

    private const string ChatRoutesAdminKeyHeader = "X-Admin-Key";

    [Fact]
    public async Task A_stream_of_oversized_chunked_requests_leaves_the_instance_serving_with_bounded_memory()
    {
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, "/hub?channels=home"));
        var before = Instance(0).WorkingSetBytes;
        var big = Encoding.UTF8.GetBytes("channels=" + string.Join(',', Enumerable.Range(0, 550_000).Select(i => $"c{i}")));

        // 20 × 5 MB: each read no further than the 64 KiB limit.
        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Url(0, i % 2 == 0 ? "/chathistory" : "/channels/home/chat"))
            {
                Content = new StreamContent(new MemoryStream(big)),
            };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
            request.Headers.TransferEncodingChunked = true;
            try
            {
                using var response = await _http.SendAsync(request).DefaultTimeout();
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            }
            catch (HttpRequestException)
            {
                // Answered 413 and closed before the whole body was sent.
            }
        }

        var grown = (Instance(0).WorkingSetBytes - before) / 1048576.0;
        Assert.True(grown < 40, $"the instance grew by {grown:0} MB");
        using var chat = await PostFormAsync(0, "/channels/home/chat", ("from", hub.Id), ("message", "still here"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        await hub.WaitForAsync(e => e.Selector == "cmd.chat" && e.Json.Contains("still here", StringComparison.Ordinal));
        await hub.DisposeAsync();
    }

    public static TheoryData<string, string, string, bool, int> HostileChatBodies()
    {
        var manyChannels = "channels=" + string.Join(',', Enumerable.Range(0, 550_000).Select(i => $"c{i}"));
        return new()
        {
            { "/chathistory", "application/x-www-form-urlencoded", manyChannels, true, 413 },
            { "/api/GetChatHistory", "application/x-www-form-urlencoded", "channels=" + string.Join(',', Enumerable.Range(0, 51).Select(i => $"c{i}")), false, 400 },
            { "/chathistory", "application/x-www-form-urlencoded", "channels=home,a%40b", false, 400 },
            { "/channels/x/chat", "application/x-www-form-urlencoded", "message=" + new string('x', 3_000_000), true, 413 },
            { "/api/PostChatToChannel", "application/json", "{\"message\":\"" + new string('x', 3_000_000) + "\"}", true, 413 },
            { "/channels/x/chat", "application/x-www-form-urlencoded", "from=%00&message=hi", false, 400 },
            { "/channels/x/chat", "application/x-www-form-urlencoded", string.Join('&', Enumerable.Range(0, 1025).Select(i => $"f{i}=1")), false, 400 },
            { "/channels/x/chat", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhi", false, 400 },
            { "/api/PostChatToChannel", "application/json", "{\"message\":\"\\ud800\"}", false, 400 },
        };
    }

    [Theory]
    [MemberData(nameof(HostileChatBodies))]
    public async Task Malformed_or_oversized_chat_requests_get_a_4xx_and_nothing_else(string path, string contentType, string body, bool chunked, int expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(0, path))
        {
            Content = chunked ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body))) : new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
            request.Content.Headers.ContentLength = null;
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request).DefaultTimeout();
        }
        catch (HttpRequestException) when (expected == 413)
        {
            // The server may answer 413 and close before the client finished sending the body.
            return;
        }
        using (response)
        {
            Assert.True(expected == (int)response.StatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        // The instance is still serving.
        using var health = await _http.GetAsync(Url(0, "/chathistory?channels=home")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    // The sample has no in-process API: a barrier travels through the raw route to that one user.
    private Func<string, Task> RawTo(TestClient client) => async marker =>
    {
        using var response = await PostFormAsync(0, "/channels/home/raw", ("from", client.Id), ("toUserId", client.UserId), ("selector", "cmd.barrier"), ("message", marker));
        response.EnsureSuccessStatusCode();
    };
}

/// <summary>One instance on the memory back-end, as <c>dotnet run --project samples/ChatHub</c> starts it.</summary>
public sealed class MemoryChatHubTests : ChatHubSpecification
{
    protected override async Task<IReadOnlyList<HostProcess>> StartInstancesAsync() => [await ChatHubProcess.StartAsync()];
}

/// <summary>Three instances sharing one redis-server, as samples/ChatHub/test-fanout-redis-events.sh starts them.</summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisChatHubTests(RedisFixture redis) : ChatHubSpecification
{
    private RedisServer? _ownRedis;

    protected override async Task<IReadOnlyList<HostProcess>> StartInstancesAsync()
    {
        // Its own redis-server: the sample uses fixed key names, and /reset clears them.
        _ownRedis = await RedisServer.StartAsync();
        _ = redis;
        return await Task.WhenAll(
            ChatHubProcess.StartAsync("--redis", _ownRedis.ConnectionString, "--background", "/img/port-1.jpg"),
            ChatHubProcess.StartAsync($"/redis={_ownRedis.ConnectionString}"),
            ChatHubProcess.StartAsync("--redis", _ownRedis.ConnectionString));
    }

    [Fact]
    public async Task A_chat_post_while_Redis_is_gone_gets_503_with_retry_after()
    {
        var hub = await TestClient.ConnectAsync(new Uri(Instance(0).BaseUri, "/hub?channels=home"));
        await _ownRedis!.KillAsync();

        using var response = await PostFormAsync(1, "/channels/home/chat", ("from", hub.Id), ("message", "anyone?"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Contains("Redis is unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await hub.DisposeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownRedis is not null)
        {
            await _ownRedis.DisposeAsync();
        }
    }
}

/// <summary>Three instances sharing a Redis Cluster of three masters (<c>--redis host:p1,host:p2,host:p3</c>).</summary>
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterChatHubTests : ChatHubSpecification
{
    private RedisCluster? _cluster;

    protected override async Task<IReadOnlyList<HostProcess>> StartInstancesAsync()
    {
        // Its own cluster: the sample uses fixed key names, and /reset clears them.
        _cluster = await RedisCluster.StartAsync(masters: 3);
        return await Task.WhenAll(
            ChatHubProcess.StartAsync("--redis", _cluster.ConnectionString, "--background", "/img/port-1.jpg"),
            ChatHubProcess.StartAsync($"/redis={_cluster.ConnectionString}"),
            ChatHubProcess.StartAsync("--redis", _cluster.ConnectionString));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

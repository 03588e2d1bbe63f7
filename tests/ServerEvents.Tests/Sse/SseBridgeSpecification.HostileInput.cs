using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sse;

public abstract partial class SseBridgeSpecification
{
    private const int HostileBodyLimit = 4096;

    /// <summary>A malformed or oversized body to a subscriber endpoint, and the answer it must get.</summary>
    public sealed record HostileBody(string Name, string ContentType, byte[] Body, bool Chunked, HttpStatusCode Expected)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<string, HostileBody> HostileBodies()
    {
        var data = new TheoryData<string, HostileBody>();
        HostileBody[] bodies =
        [
            new("JSON with a lone surrogate", "application/json", Encoding.ASCII.GetBytes("{\"id\":\"\\ud800\"}"), false, HttpStatusCode.BadRequest),
            new("JSON with invalid UTF-8 in a string", "application/json", [.. "{\"id\":\""u8, 0xFF, 0xFE, .. "\"}"u8], false, HttpStatusCode.BadRequest),
            new("JSON with a lone surrogate in a name", "application/json", Encoding.ASCII.GetBytes("{\"\\udc00\":\"x\"}"), false, HttpStatusCode.BadRequest),
            new("chunked JSON over the limit", "application/json", Encoding.ASCII.GetBytes("{\"id\":\"" + new string('x', HostileBodyLimit * 4) + "\"}"), true, HttpStatusCode.RequestEntityTooLarge),
            new("chunked form over the limit", "application/x-www-form-urlencoded", Encoding.ASCII.GetBytes("id=" + new string('x', HostileBodyLimit * 4)), true, HttpStatusCode.RequestEntityTooLarge),
            new("a form of 2,000 fields", "application/x-www-form-urlencoded", Encoding.ASCII.GetBytes(string.Join('&', Enumerable.Range(0, 2000).Select(i => $"f{i}=1")).Substring(0, HostileBodyLimit - 10)), false, HttpStatusCode.BadRequest),
            new("truncated multipart", "multipart/form-data; boundary=XyZ", Encoding.ASCII.GetBytes("--XyZ\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nabc"), false, HttpStatusCode.BadRequest),
            new("a form value with NUL", "application/x-www-form-urlencoded", Encoding.ASCII.GetBytes("id=%00"), false, HttpStatusCode.BadRequest),
        ];
        foreach (var path in new[] { "/event-heartbeat", "/event-unregister", "/event-subscribers" })
        {
            foreach (var body in bodies)
            {
                data.Add(path, body);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task A_malformed_or_oversized_body_gets_a_clear_4xx_and_changes_nothing(string path, HostileBody hostile)
    {
        await using var cluster = await StartAsync(bridge: b => b.MaxRequestBodyBytes = HostileBodyLimit);
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster[1].BaseUri, path))
        {
            Content = hostile.Chunked ? new StreamContent(new MemoryStream(hostile.Body)) : new ByteArrayContent(hostile.Body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType);
        if (hostile.Chunked)
        {
            request.Headers.TransferEncodingChunked = true;
            request.Content.Headers.ContentLength = null;
        }
        using var http = new HttpClient();
        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.True(hostile.Expected == response.StatusCode, $"{hostile}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        // Nothing was lost: the subscription is there and its owner can still drive it.
        Assert.Equal(["home"], (await cluster.Api(2).GetSubscriptionInfoAsync(sse.Id).DefaultTimeout())!.Channels);
        Assert.Equal(HttpStatusCode.OK, (await sse.HeartbeatAsync()).StatusCode);
        Assert.False(sse.Ended.IsCompleted);
    }
}

public abstract partial class SseBridgeSpecification
{
    [Fact]
    public async Task Listing_subscribers_of_thousands_of_channels_gets_400_and_of_the_cap_works()
    {
        await using var cluster = await StartAsync();
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=c7");
        using var http = new HttpClient();

        // 8,000 short names fit in the default 64 KiB body: what made the Redis presence script fail (500) before.
        var many = string.Join(',', Enumerable.Range(0, 8000).Select(i => $"c{i}"));
        using var tooMany = await http.PostAsync(new Uri(cluster[1].BaseUri, "/event-subscribers"), new FormUrlEncodedContent([new("channels", many)])).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains($"At most {IServerEvents.MaxChannelsPerCall}", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var atCap = string.Join(',', Enumerable.Range(0, IServerEvents.MaxChannelsPerCall).Select(i => $"c{i}"));
        using var listed = await http.PostAsync(new Uri(cluster[2].BaseUri, "/event-subscribers"), new FormUrlEncodedContent([new("channels", atCap)])).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains($"\"userId\":\"{sse.ConnectInfo["userId"]}\"", await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

public abstract partial class SseBridgeSpecification
{
    [Fact]
    public async Task Subscriber_lists_are_rate_limited_per_address_with_retry_after()
    {
        await using var cluster = await StartAsync(bridge: b => b.SubscriberListsPerSecond = 1);
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri);
        using var crowd = new HttpClient();
        crowd.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.60");
        using var other = new HttpClient();
        other.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.61");
        var list = new Uri(cluster[0].BaseUri, "/event-subscribers?channels=home");

        // A burst of four times the rate, then 429 with the wait.
        for (var i = 0; i < 4; i++)
        {
            using var ok = await crowd.GetAsync(list).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await crowd.GetAsync(list).DefaultTimeout();
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), limited.Headers.RetryAfter?.ToString());

        using var elsewhere = await other.GetAsync(list).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using var later = await crowd.GetAsync(list).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task Listing_subscribers_can_be_authorized_and_is_capped()
    {
        await using var cluster = await StartAsync(
            o => o.Events.AuthorizeChannel = c => Task.FromResult(c.Access == ChannelAccess.Join || c.User.Identity?.IsAuthenticated == true),
            bridge: b => b.MaxSubscribersListed = 2);
        await using var a = await SseTestClient.ConnectAsync(cluster[0].BaseUri, user: "u1;alice");
        await using var b = await SseTestClient.ConnectAsync(cluster[1].BaseUri, user: "u2;bob");
        await using var c = await SseTestClient.ConnectAsync(cluster[2 % cluster.Count].BaseUri, user: "u3;carol");

        using var anonymous = await new HttpClient().GetAsync(new Uri(cluster[0].BaseUri, "/event-subscribers?channels=home")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        using var viaDto = await new HttpClient().GetAsync(new Uri(cluster[0].BaseUri, "/api/GetEventSubscribers?channels=home")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.Forbidden, viaDto.StatusCode);

        using var listed = await a.Http.GetAsync(new Uri(cluster[0].BaseUri, "/event-subscribers?channels=home")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        Assert.Equal(2, json.RootElement.GetArrayLength());
    }
}

public abstract partial class SseBridgeSpecification
{
    [Fact]
    public async Task A_subscriber_list_flood_from_one_address_is_bounded_and_others_keep_receiving()
    {
        await using var cluster = await StartAsync();
        // Listed subscribers, so that every list served costs the back-end something.
        var crowd = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => SseTestClient.OpenAsync(cluster[i % cluster.Count].BaseUri, "channels=crowd")));
        await Eventually.TrueAsync(async () => (await cluster.Api(0).GetSubscriptionsDetailsAsync(["crowd"])).Count == crowd.Length, "the crowd did not subscribe");
        var watcher = await cluster.ConnectAsync(0, "news");
        using var flood = new HttpClient();
        flood.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.70");
        var list = new Uri(cluster[0].BaseUri, "/event-subscribers?channels=crowd");
        int served = 0, refused = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var loops = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await flood.GetAsync(list);
                var counter = response.StatusCode switch
                {
                    HttpStatusCode.OK => Interlocked.Increment(ref served),
                    HttpStatusCode.TooManyRequests => Interlocked.Increment(ref refused),
                    _ => throw new InvalidOperationException($"Unexpected {(int)response.StatusCode}"),
                };
                // Hundreds of requests a second per loop: far over the limit, without starving the rest of the suite.
                await Task.Delay(2);
            }
        })).ToList();
        // Meanwhile the watcher's channel keeps being served, every message.
        for (var i = 0; i < 20; i++)
        {
            await cluster.Api(i % cluster.Count).NotifyChannelJsonAsync("news", "cmd.tick", i.ToString(System.Globalization.CultureInfo.InvariantCulture)).DefaultTimeout();
            await watcher.WaitForAsync(e => e.Selector == "cmd.tick" && e.Json == i.ToString(System.Globalization.CultureInfo.InvariantCulture)).DefaultTimeout();
        }
        await Task.WhenAll(loops).DefaultTimeout();

        // A burst of 20 (four times the default 5 per second), then 5 per second.
        var seconds = started.Elapsed.TotalSeconds;
        Assert.InRange(served, 1, 20 + (int)Math.Ceiling(5 * seconds) + 2);
        Assert.True(refused > served, $"{served} served, {refused} refused");
        foreach (var client in crowd)
        {
            await client.DisposeAsync();
        }
    }
}

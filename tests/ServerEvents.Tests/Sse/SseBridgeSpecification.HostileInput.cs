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

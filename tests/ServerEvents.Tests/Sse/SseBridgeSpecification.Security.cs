using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sse;

public abstract partial class SseBridgeSpecification
{
    [Fact]
    public async Task Nothing_a_client_or_app_sends_can_add_a_line_or_an_event_to_the_stream()
    {
        await using var cluster = await StartAsync(o => o.Events.OnCreated = c =>
        {
            c.Subscription.Meta["bio"] = "line1\n\ndata: cmd.evil {}\n\nid: 999";
            return Task.CompletedTask;
        });
        await using var sse = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var api = cluster.Api(1);

        await api.NotifyChannelAsync("home", "cmd.chat", "a\n\ndata: cmd.evil {}\r\n\r\n").DefaultTimeout();
        await api.NotifyChannelJsonAsync("home", "cmd.multiline", "{\n  \"a\": 1,\r\n  \"b\": \"x\"\n}").DefaultTimeout();
        await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelJsonAsync("home", "cmd.x\ndata: cmd.evil", "1").DefaultTimeout());
        await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelJsonAsync("home\ndata: cmd.evil", "cmd.x", "1").DefaultTimeout());
        await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelJsonAsync("home", "cmd.x", "1\n\ndata: cmd.evil {}").DefaultTimeout());
        var refused = await SseTestClient.OpenAsync(cluster[0].BaseUri, "channels=home%0Adata:%20cmd.evil");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Response.StatusCode);
        await refused.DisposeAsync();

        var frames = await sse.BarrierAsync(api);
        Assert.Equal("{\"a\":1,\"b\":\"x\"}", frames.Single(f => f.Selector == "cmd.multiline").Json);
        Assert.Equal("\"a\\n\\ndata: cmd.evil {}\\r\\n\\r\\n\"", frames.Single(f => f.Selector == "cmd.chat").Json);
        Assert.DoesNotContain(sse.Frames, f => f.Selector == "cmd.evil");
        Assert.DoesNotContain("\ndata: cmd.evil", sse.Raw);
        Assert.DoesNotContain("\nid: 999", sse.Raw);
        // Every line of the stream is a field, a comment or a frame separator.
        Assert.All(sse.Raw.Split('\n'), line => Assert.True(line.Length == 0 || line.StartsWith("id: ", StringComparison.Ordinal) || line.StartsWith("data: ", StringComparison.Ordinal) || line.StartsWith(':'), line));
    }

    [Fact]
    public async Task Another_user_or_address_cannot_drive_a_subscription()
    {
        await using var cluster = await StartAsync(o => o.AllowSessionIdsInHttpParams = true, bridge: b => b.ValidateSession = true);
        await using var owned = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home", user: "u1;alice");
        await using var anonymous = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home&ss-id=s-1");
        using var stranger = new HttpClient();
        stranger.DefaultRequestHeaders.Add(TestAuthHandler.Header, "u2;mallory");
        using var elsewhere = new HttpClient();
        elsewhere.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");

        foreach (var path in new[] { $"/event-heartbeat?id={owned.Id}", $"/event-unregister?id={owned.Id}", $"/event-subscribers/{owned.Id}?subscribeChannels=spy" })
        {
            using var byStranger = await stranger.PostAsync(new Uri(cluster[1].BaseUri, path), null).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Forbidden, byStranger.StatusCode);
            using var byAnonymous = await elsewhere.PostAsync(new Uri(cluster[2].BaseUri, path.Replace(owned.Id, anonymous.Id, StringComparison.Ordinal)), null).DefaultTimeout();
            Assert.Equal(HttpStatusCode.Forbidden, byAnonymous.StatusCode);
            Assert.Contains("Invalid User Address", await byAnonymous.Content.ReadAsStringAsync());
        }
        // Right address, wrong session.
        using (var wrongSession = await new HttpClient().PostAsync(new Uri(cluster[1].BaseUri, $"/event-heartbeat?id={anonymous.Id}&ss-id=s-2"), null).DefaultTimeout())
        {
            Assert.Equal(HttpStatusCode.Forbidden, wrongSession.StatusCode);
        }
        // Nothing changed; the owners still can.
        Assert.Equal(["home"], (await cluster.Api(0).GetSubscriptionInfoAsync(owned.Id).DefaultTimeout())!.Channels);
        Assert.Equal(HttpStatusCode.OK, (await owned.HeartbeatAsync()).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.HeartbeatAsync()).StatusCode);
        Assert.False(owned.Ended.IsCompleted);
    }

    [Fact]
    public async Task Limits_are_enforced_with_clear_4xx_answers()
    {
        await using var cluster = await StartAsync(o => o.MaxChannelsPerSubscription = 3, b =>
        {
            b.MaxStreamsPerUser = 2;
            b.MaxRequestBodyBytes = 1024;
        });
        var uri = cluster[0].BaseUri;

        var badName = await SseTestClient.OpenAsync(uri, "channels=bad%20name");
        Assert.Equal(HttpStatusCode.BadRequest, badName.Response.StatusCode);
        Assert.Contains("bad name", await badName.Response.Content.ReadAsStringAsync());
        var tooMany = await SseTestClient.OpenAsync(uri, "channels=a,b,c,d");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.Response.StatusCode);

        await using var first = await SseTestClient.ConnectAsync(uri, "channels=home", user: "u9;ivan");
        await using var second = await SseTestClient.ConnectAsync(cluster[1].BaseUri, "channels=home", user: "u9;ivan");
        var third = await SseTestClient.OpenAsync(cluster[2].BaseUri, "channels=home", user: "u9;ivan");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.Response.StatusCode);
        Assert.Contains("at most 2", await third.Response.Content.ReadAsStringAsync());

        using var huge = await PostJsonAsync(first.Http, new Uri(uri, "/api/UpdateEventSubscriber"), new { id = first.Id, subscribeChannels = Enumerable.Range(0, 200).Select(i => $"channel{i}").ToArray() });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        using var overLimit = await PostJsonAsync(first.Http, new Uri(uri, "/api/UpdateEventSubscriber"), new { id = first.Id, subscribeChannels = new[] { "x", "y", "z" } });
        Assert.Equal(HttpStatusCode.BadRequest, overLimit.StatusCode);
        using var malformed = await first.Http.PostAsync(new Uri(uri, "/api/UpdateEventSubscriber"), new StringContent("{not json", Encoding.UTF8, "application/json")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        using var noId = await first.Http.PostAsync(new Uri(uri, "/event-heartbeat"), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        Assert.Equal(["home"], (await cluster.Api(0).GetSubscriptionInfoAsync(first.Id).DefaultTimeout())!.Channels);
        foreach (var refused in new[] { badName, tooMany, third })
        {
            await refused.DisposeAsync();
        }
    }

    [Fact]
    public async Task Anonymous_streams_are_refused_when_only_authenticated_users_may_subscribe()
    {
        await using var cluster = await StartAsync(o => o.LimitToAuthenticatedUsers = true);
        var anonymous = await SseTestClient.OpenAsync(cluster[0].BaseUri);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Response.StatusCode);
        await anonymous.DisposeAsync();
        await using var signedIn = await SseTestClient.ConnectAsync(cluster[0].BaseUri, user: "u1;alice");
        Assert.Equal("true", signedIn.ConnectInfo["isAuthenticated"]);
    }

    [Fact]
    public async Task A_refused_subscription_gets_403_with_the_reason_and_leaves_nothing()
    {
        await using var cluster = await StartAsync(o => o.Events.AuthorizeChannel = c => Task.FromResult(c.Channel != "admin"));
        var refused = await SseTestClient.OpenAsync(cluster[0].BaseUri, "channels=home,admin");
        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        Assert.Contains("admin", await refused.Response.Content.ReadAsStringAsync());
        await refused.DisposeAsync();
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    [Fact]
    public async Task A_reader_that_stops_reading_is_closed_without_holding_up_the_others()
    {
        await using var cluster = await StartAsync(bridge: b => b.MaxUnsentBytesPerStream = 512 * 1024);
        using var slowCloses = ClusterMetrics.Of<long>(cluster, "serverevents.slow_client.closes");
        await using var fast = await SseTestClient.ConnectAsync(cluster[0].BaseUri, "channels=home");
        var watcher = await cluster.ConnectAsync(0, "home");

        // A raw socket that sends the request and then never reads a byte.
        using var stuck = new TcpClient { ReceiveBufferSize = 4096 };
        await stuck.ConnectAsync(cluster[0].BaseUri.Host, cluster[0].BaseUri.Port).DefaultTimeout();
        var request = $"GET /event-stream?channels=home HTTP/1.1\r\nHost: {cluster[0].BaseUri.Authority}\r\nAccept: text/event-stream\r\n\r\n";
        await stuck.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request)).DefaultTimeout();
        await Eventually.TrueAsync(async () => (await cluster.Api(0).GetChannelCountsAsync())["home"] == 3, "the stuck stream did not subscribe");
        var stuckUser = (await cluster.Api(0).GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout())
            .Select(m => m["userId"]).Single(u => u != fast.UserId && u != watcher.UserId);

        const int messages = 300;
        var pad = new string('x', 16 * 1024);
        for (var i = 1; i <= messages; i++)
        {
            await cluster.Api(1).NotifyChannelJsonAsync("home", "cmd.big", $"{{\"n\":{i},\"pad\":\"{pad}\"}}").DefaultTimeout();
            if (i % 10 == 0)
            {
                // A reader that keeps up stays well inside its buffer; the stuck one falls further behind each batch.
                await fast.WaitForAsync(f => f.Selector == "cmd.big" && f.Json.StartsWith($"{{\"n\":{i},", StringComparison.Ordinal));
            }
        }
        await fast.WaitForAsync(f => f.Selector == "cmd.big" && f.Json.StartsWith($"{{\"n\":{messages},", StringComparison.Ordinal));
        Assert.Equal(messages, fast.Frames.Count(f => f.Selector == "cmd.big"));

        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == stuckUser);
        Assert.Equal(2, (await cluster.Api(2).GetChannelCountsAsync().DefaultTimeout())["home"]);
        Assert.Equal(1, slowCloses.Servers[0].Sum("serverevents.transport", "sse"));
    }
}

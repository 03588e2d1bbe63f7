using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

/// <summary>
/// The behaviour every back-end must show, written once. A back-end subclasses it with how many app
/// servers to start and how to plug itself in; the tests spread clients and API calls over servers
/// 0, 1 and 2, which on a one-server back-end are all the same server.
/// </summary>
public abstract partial class ServerEventsSpecification
{
    /// <summary>How many app servers share the back-end in each test.</summary>
    protected abstract int ServerCount { get; }

    /// <summary>Plugs the back-end into a server's Server Events registration.</summary>
    protected abstract void UseBackend(IServerEventsBuilder builder);

    protected Task<TestCluster> StartAsync(Action<ServerEventsOptions>? configure = null) =>
        TestCluster.StartAsync(ServerCount, services => UseBackend(services.AddServerEvents(configure ?? (_ => { }))), app => app.MapServerEvents("/hub"));

    protected Task<TestCluster> StartAsync(Action<IServiceCollection> configureServices, Action<WebApplication> configureApp) =>
        TestCluster.StartAsync(ServerCount, configureServices, configureApp);

    [Fact]
    public async Task OnConnect_is_the_first_event_with_ServiceStack_payload_of_strings()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home,other");

        var first = client.Events[0];
        Assert.Equal("cmd.onConnect", first.Selector);
        Assert.Null(first.Channel);
        foreach (var property in first.Body.EnumerateObject())
        {
            Assert.Equal(System.Text.Json.JsonValueKind.String, property.Value.ValueKind);
        }
        var info = client.ConnectInfo;
        Assert.Equal("home,other", info["channels"]);
        Assert.Equal("10000", info["heartbeatIntervalMs"]);
        Assert.Equal("30000", info["idleTimeoutMs"]);
        Assert.Equal("false", info["isAuthenticated"]);
        Assert.StartsWith("-", info["userId"]);
        Assert.StartsWith("user", info["displayName"]);
        Assert.StartsWith("data:image/svg+xml", info["profileUrl"]);
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(info["createdAt"]));
        Assert.InRange(createdAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        var registered = await cluster.Api(1).GetSubscriptionInfoAsync(client.Id).DefaultTimeout();
        Assert.NotNull(registered);
        Assert.Equal(["home", "other"], registered.Channels);
    }

    [Fact]
    public async Task No_channels_means_channel_star_and_legacy_channel_parameter_is_read_too()
    {
        await using var cluster = await StartAsync();
        var none = await cluster.ConnectAsync(0);
        var legacy = await TestClient.ConnectAsync(cluster.HubUrl(1, "channels=a&channel=b,c"));
        await using var _ = legacy;

        Assert.Equal("*", none.ConnectInfo["channels"]);
        Assert.Equal("a,b,c", legacy.ConnectInfo["channels"]);
    }

    [Fact]
    public async Task Anonymous_users_get_distinct_ServiceStack_style_ids_and_names()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.ConnectAsync(0, "home");
        var b = await cluster.ConnectAsync(1, "home");

        Assert.NotEqual(a.UserId, b.UserId);
        Assert.NotEqual(a.Id, b.Id);
        foreach (var client in new[] { a, b })
        {
            var n = long.Parse(client.UserId[1..]);
            Assert.True(n > 0);
            Assert.Equal("user" + n, client.DisplayName);
        }
    }

    [Fact]
    public async Task Authenticated_users_take_their_identity_from_the_ASP_NET_Core_user()
    {
        await using var cluster = await StartAsync();
        var alice = await cluster.ConnectAsync(0, "home", user: "u-42;alice");

        Assert.Equal("u-42", alice.UserId);
        Assert.Equal("alice", alice.DisplayName);
        Assert.Equal("true", alice.ConnectInfo["isAuthenticated"]);
        var info = await cluster.Api(1).GetSubscriptionInfoAsync(alice.Id).DefaultTimeout();
        Assert.Equal("alice", info!.UserName);
        Assert.True(info.IsAuthenticated);
        Assert.Equal("127.0.0.1", info.UserAddress);
    }

    [Fact]
    public async Task Session_id_comes_from_ServiceStack_header_or_cookie_and_from_the_query_only_when_allowed()
    {
        await using var cluster = await StartAsync();
        var byHeader = await cluster.ConnectAsync(0, "home", session: "sess-1");
        var byQuery = await cluster.ConnectAsync(0, "home&ss-id=sess-2");
        var byCookie = await TestClient.ConnectAsync(cluster.HubUrl(1, "channels=home"), cookie: "ss-opt=perm; ss-pid=perm-1; ss-id=temp-1");

        Assert.Equal("sess-1", (await cluster.Api(1).GetSubscriptionInfoAsync(byHeader.Id).DefaultTimeout())!.SessionId);
        // ServiceStack's AllowSessionIdsInHttpParams is off by default: a link cannot carry a session.
        Assert.Null((await cluster.Api(1).GetSubscriptionInfoAsync(byQuery.Id).DefaultTimeout())!.SessionId);
        Assert.Equal("perm-1", (await cluster.Api(0).GetSubscriptionInfoAsync(byCookie.Id).DefaultTimeout())!.SessionId);
        await byCookie.DisposeAsync();

        await using var allowing = await StartAsync(o => o.AllowSessionIdsInHttpParams = true);
        var allowed = await allowing.ConnectAsync(0, "home&ss-id=sess-2");
        Assert.Equal("sess-2", (await allowing.Api(1).GetSubscriptionInfoAsync(allowed.Id).DefaultTimeout())!.SessionId);
    }

    [Fact]
    public async Task Join_reaches_every_member_of_each_channel_including_the_newcomer()
    {
        await using var cluster = await StartAsync();
        var early = await cluster.ConnectAsync(0, "home");
        var newcomer = await cluster.ConnectAsync(1, "home,lobby");

        var seenByEarly = await early.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == newcomer.UserId);
        Assert.Equal("home", seenByEarly.Channel);
        Assert.Equal("home,lobby", seenByEarly.Meta["channels"]);
        Assert.False(seenByEarly.Meta.ContainsKey("id"));

        await newcomer.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Channel == "home" && e.Meta["userId"] == newcomer.UserId);
        await newcomer.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Channel == "lobby" && e.Meta["userId"] == newcomer.UserId);
        var early2 = await early.BarrierAsync(cluster.Api(2));
        Assert.DoesNotContain(early2, e => e.Channel == "lobby");
    }

    [Fact]
    public async Task Disconnect_sends_leave_to_the_remaining_members_and_removes_presence()
    {
        await using var cluster = await StartAsync();
        var stays = await cluster.ConnectAsync(0, "home");
        var leaves = await TestClient.ConnectAsync(cluster.HubUrl(1, "channels=home"));
        var leavingId = leaves.Id;
        var leavingUser = leaves.UserId;

        await leaves.DisposeAsync();

        var leave = await stays.WaitForAsync(e => e.Selector == "cmd.onLeave" && e.Meta["userId"] == leavingUser);
        Assert.Equal("home", leave.Channel);
        Assert.Null(await cluster.Api(2).GetSubscriptionInfoAsync(leavingId).DefaultTimeout());
    }

    [Fact]
    public async Task Lifecycle_events_can_be_switched_off()
    {
        await using var cluster = await StartAsync(o => o.NotifyChannelOfSubscriptions = false);
        var first = await cluster.ConnectAsync(0, "home", awaitJoins: false);
        var second = await cluster.ConnectAsync(1, "home", awaitJoins: false);
        await second.DisposeAsync();
        await Eventually.TrueAsync(async () => await cluster.Api(0).GetSubscriptionInfoAsync(second.Id) is null, "the second client is gone");

        var seen = await first.BarrierAsync(cluster.Api(2));
        Assert.DoesNotContain(seen, e => e.Selector is "cmd.onJoin" or "cmd.onLeave");
    }

    [Fact]
    public async Task An_apps_own_hub_derived_from_the_base_gains_the_API()
    {
        await using var cluster = await StartAsync(
            services => UseBackend(services.AddServerEvents<GreetingHub>()),
            app => app.MapHub<GreetingHub>("/greet"));
        var client = await cluster.ConnectAsync(0, "home", path: "/greet");
        var other = await cluster.ConnectAsync(1, "home", path: "/greet");

        var reply = await client.Connection.InvokeAsync<string>(nameof(GreetingHub.Greet), "home").DefaultTimeout();

        Assert.Equal("sent", reply);
        var greeting = await other.WaitForAsync("cmd.greeting", "home");
        Assert.Equal($"\"hello from {client.DisplayName}\"", greeting.Json);
        var subscribers = await other.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "home" }).DefaultTimeout();
        Assert.Equal(2, subscribers.Count);
    }
}

/// <summary>An app's existing hub with its own constructor and methods.</summary>
public sealed class GreetingHub(TimeProvider time) : ServerEventsHubBase
{
    public async Task<string> Greet(string channel)
    {
        _ = time.GetUtcNow();
        var me = await ServerEvents.GetSubscriptionInfoAsync(Context.ConnectionId);
        await ServerEvents.NotifyChannelAsync(channel, "cmd.greeting", $"hello from {me!.DisplayName}");
        return "sent";
    }
}

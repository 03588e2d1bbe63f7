using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    public static TheoryData<string, string> BadChannels => new()
    {
        { "", "must not be empty" },
        { "   ", "must not be empty" },
        { "a@b", "'@'" },
        { "a b", "U+0020" },
        { "line\nbreak", "U+000A" },
        { "tab\tbed", "U+0009" },
        { new string('x', 101), "limit is 100" },
    };

    [Theory]
    [MemberData(nameof(BadChannels))]
    public async Task Bad_channel_names_are_refused_everywhere_with_a_reason_and_change_nothing(string channel, string reason)
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(1);

        var hub = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("SubscribeToChannels", new[] { "ok", channel }).DefaultTimeout());
        Assert.Contains(reason, hub.Message);
        var api1 = await Assert.ThrowsAnyAsync<ArgumentException>(() => api.SubscribeToChannelsAsync(client.Id, [channel]));
        Assert.Contains(reason, api1.Message);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => api.NotifyChannelAsync(channel, "cmd.x", 1));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => api.NotifyUserIdAsync(client.UserId, "cmd.x", 1, channel));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => api.GetSubscriptionsDetailsAsync([channel]));
        Assert.Equal(["home"], (await api.GetSubscriptionInfoAsync(client.Id).DefaultTimeout())!.Channels);
        Assert.DoesNotContain(await client.BarrierAsync(api), e => e.Selector is "cmd.x" or "cmd.onUpdate");
    }

    [Fact]
    public async Task Bad_channel_names_in_the_connect_url_refuse_the_connection()
    {
        await using var cluster = await StartAsync();

        Assert.Contains("'@'", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home,a@b")));
        Assert.Contains("must not be empty", await TestClient.ConnectRefusedAsync(cluster.HubUrl(1, "channels=home,,x")));
        Assert.Contains("U+000A", await TestClient.ConnectRefusedAsync(cluster.HubUrl(2, "channels=a%0Ab")));
        Assert.Empty(await cluster.Api(0).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    [Fact]
    public async Task More_channels_than_allowed_are_refused()
    {
        await using var cluster = await StartAsync(o => o.MaxChannelsPerSubscription = 3);

        Assert.Contains("at most 3", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=a,b,c,d")));
        var client = await cluster.ConnectAsync(1, "a,b");
        var ex = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("SubscribeToChannels", new[] { "c", "d" }).DefaultTimeout());
        Assert.Contains("at most 3", ex.Message);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => cluster.Api(2).SubscribeToChannelsAsync(client.Id, ["c", "d"]));
        Assert.Equal(["a", "b"], (await cluster.Api(0).GetSubscriptionInfoAsync(client.Id).DefaultTimeout())!.Channels);
        await cluster.Api(2).SubscribeToChannelsAsync(client.Id, ["c"]).DefaultTimeout();
    }

    [Fact]
    public async Task Unknown_subscription_ids_get_clear_answers()
    {
        await using var cluster = await StartAsync();
        var api = cluster.Api(0);

        // ServiceStack's answers: changing an unknown subscription's channels does nothing.
        Assert.Null(await api.SubscribeToChannelsAsync("nope", ["home"]).DefaultTimeout());
        Assert.Null(await api.UnsubscribeFromChannelsAsync("nope", ["home"]).DefaultTimeout());
        Assert.Empty(await api.GetSubscriptionsDetailsAsync(["home"]).DefaultTimeout());
        Assert.Null(await api.GetSubscriptionInfoAsync("nope").DefaultTimeout());
        Assert.Null(await api.UnRegisterAsync("nope").DefaultTimeout());
        Assert.False(await api.PulseAsync("nope").DefaultTimeout());
        Assert.Empty(await api.GetSubscriptionInfosByUserIdAsync("nope").DefaultTimeout());
        await api.NotifySubscriptionAsync("nope", "cmd.x", 1).DefaultTimeout();
    }

    [Fact]
    public async Task Bad_messages_and_selectors_are_refused_and_nothing_is_sent()
    {
        await using var cluster = await StartAsync(o => o.MaxMessageLength = 1000);
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(1);

        await Assert.ThrowsAsync<ArgumentNullException>(() => api.NotifyChannelAsync("home", "cmd.x", null!));
        var cyclic = new Node();
        cyclic.Next = cyclic;
        var notSerializable = await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelAsync("home", "cmd.x", cyclic));
        Assert.Contains("cannot be serialized", notSerializable.Message);
        Assert.Contains("not well-formed JSON", (await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyAllJsonAsync("cmd.x", "{oops"))).Message);
        Assert.Contains("limit is 1000", (await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyAllAsync("cmd.x", new string('a', 2000)))).Message);
        foreach (var selector in new[] { "", "nodot", "cmd.a b", "home@cmd.x", "cmd.x\ny", ".x" })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => api.NotifyChannelAsync("home", selector, 1));
        }
        await Assert.ThrowsAnyAsync<ArgumentException>(() => api.NotifyUserIdAsync("", "cmd.x", 1));

        var received = await client.BarrierAsync(api);
        Assert.DoesNotContain(received, e => e.Selector == "cmd.x");
    }

    private sealed class Node
    {
        public Node? Next { get; set; }
    }
}

public abstract partial class ServerEventsSpecification
{
    public static TheoryData<string> LifecycleSelectors =>
        ["cmd.onConnect", "cmd.onJoin", "cmd.onLeave", "cmd.onUpdate", "cmd.onHeartbeat", "cmd.onReset", "CMD.ONCONNECT"];

    [Theory]
    [MemberData(nameof(LifecycleSelectors))]
    public async Task Lifecycle_selectors_are_refused_by_every_notify_unless_allowed(string selector)
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(1);

        Func<Task>[] notifies =
        [
            () => api.NotifyAllAsync(selector, new { id = "forged" }),
            () => api.NotifyAllJsonAsync(selector, "{\"id\":\"forged\"}"),
            () => api.NotifyChannelAsync("home", selector, new { id = "forged" }),
            () => api.NotifyChannelJsonAsync("home", selector, "{\"id\":\"forged\"}"),
            () => api.NotifySubscriptionAsync(client.Id, selector, new { id = "forged" }),
            () => api.NotifyUserIdAsync(client.UserId, selector, new { id = "forged" }),
            () => api.NotifyUserIdJsonAsync(client.UserId, selector, "{\"id\":\"forged\"}"),
        ];
        foreach (var notify in notifies)
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(notify);
            Assert.Contains("lifecycle", refused.Message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(await client.BarrierAsync(api), e => e.Json.Contains("forged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_app_that_allows_lifecycle_selectors_can_send_them()
    {
        await using var cluster = await StartAsync(o => o.AllowLifecycleSelectors = true);
        var client = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.onUpdate", new { id = "app-made" }).DefaultTimeout();

        Assert.Contains(await client.BarrierAsync(cluster.Api(1)), e => e.Selector == "cmd.onUpdate" && e.Json.Contains("app-made", StringComparison.Ordinal));
    }
}

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task A_call_naming_more_channels_than_the_cap_is_refused_and_one_at_the_cap_works()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "c999");
        var api = cluster.Api(1);
        var atCap = Enumerable.Range(0, IServerEvents.MaxChannelsPerCall).Select(i => $"c{i}").ToList();
        List<string> over = [.. atCap, "c-extra"];

        Assert.Contains(await api.GetSubscriptionsDetailsAsync(atCap).DefaultTimeout(), d => d["userId"] == client.UserId);
        // Duplicates are named once.
        Assert.Contains(await api.GetSubscriptionsDetailsAsync([.. atCap, .. atCap]).DefaultTimeout(), d => d["userId"] == client.UserId);
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => api.GetSubscriptionsDetailsAsync(over));
        Assert.Contains($"At most {IServerEvents.MaxChannelsPerCall}", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelsAsync(over, "cmd.x", 1));
        await Assert.ThrowsAsync<ArgumentException>(() => api.NotifyChannelsJsonAsync(over, "cmd.x", "1"));

        Assert.DoesNotContain(await client.BarrierAsync(api), e => e.Selector == "cmd.x");
    }
}

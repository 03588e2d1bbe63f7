using Microsoft.AspNetCore.SignalR;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task NotifyAll_reaches_every_subscription_without_a_channel()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.ConnectAsync(0, "home");
        var b = await cluster.ConnectAsync(1, "other");

        await cluster.Api(2).NotifyAllAsync("cmd.announce", new { Text = "hi" }).DefaultTimeout();

        foreach (var client in new[] { a, b })
        {
            var e = await client.WaitForAsync("cmd.announce");
            Assert.Null(e.Channel);
            Assert.Equal("{\"text\":\"hi\"}", e.Json);
        }
    }

    [Fact]
    public async Task NotifyChannel_reaches_members_only_and_carries_the_channel()
    {
        await using var cluster = await StartAsync();
        var member = await cluster.ConnectAsync(0, "home");
        var outsider = await cluster.ConnectAsync(1, "other");

        await cluster.Api(2).NotifyChannelAsync("home", "cmd.chat", new ChatMessage(7, "hello", null)).DefaultTimeout();

        var e = await member.WaitForAsync("cmd.chat");
        Assert.Equal("home", e.Channel);
        Assert.Equal("{\"id\":7,\"message\":\"hello\"}", e.Json);
        Assert.DoesNotContain(await outsider.BarrierAsync(cluster.Api(2)), x => x.Selector == "cmd.chat");
    }

    [Fact]
    public async Task NotifyChannels_sends_one_event_per_channel()
    {
        await using var cluster = await StartAsync();
        var both = await cluster.ConnectAsync(0, "a,b");
        var onlyB = await cluster.ConnectAsync(1, "b");

        await cluster.Api(2).NotifyChannelsAsync(["a", "b", "a"], "cmd.multi", 1).DefaultTimeout();

        await both.WaitForAsync("cmd.multi", "a");
        await both.WaitForAsync("cmd.multi", "b");
        var received = await onlyB.BarrierAsync(cluster.Api(0));
        Assert.Equal(["b"], received.Where(e => e.Selector == "cmd.multi").Select(e => e.Channel));
        Assert.Equal(2, (await both.BarrierAsync(cluster.Api(1))).Count(e => e.Selector == "cmd.multi"));
    }

    [Fact]
    public async Task NotifySubscription_reaches_that_subscription_only_and_honours_the_channel_filter()
    {
        await using var cluster = await StartAsync();
        var target = await cluster.ConnectAsync(0, "home");
        var sameChannel = await cluster.ConnectAsync(1, "home");
        var api = cluster.Api(2);

        await api.NotifySubscriptionAsync(target.Id, "cmd.direct", "one").DefaultTimeout();
        await api.NotifySubscriptionAsync(target.Id, "cmd.filteredOut", "two", channel: "elsewhere").DefaultTimeout();
        await api.NotifySubscriptionAsync(target.Id, "cmd.filteredIn", "three", channel: "home").DefaultTimeout();

        var direct = await target.WaitForAsync("cmd.direct");
        Assert.Null(direct.Channel);
        Assert.Equal("\"one\"", direct.Json);
        var filteredIn = await target.WaitForAsync("cmd.filteredIn");
        Assert.Null(filteredIn.Channel);
        var targetSaw = await target.BarrierAsync(api);
        Assert.DoesNotContain(targetSaw, e => e.Selector == "cmd.filteredOut");
        Assert.DoesNotContain(await sameChannel.BarrierAsync(api), e => e.Selector.StartsWith("cmd.direct") || e.Selector.StartsWith("cmd.filtered"));
    }

    [Fact]
    public async Task NotifyUserId_reaches_every_connection_of_the_user_with_optional_channel_filter()
    {
        await using var cluster = await StartAsync();
        var laptop = await cluster.ConnectAsync(0, "home", user: "u1;bob");
        var phone = await cluster.ConnectAsync(1, "work", user: "u1;bob");
        var someoneElse = await cluster.ConnectAsync(2, "home", user: "u2;carol");
        var api = cluster.Api(1);

        await api.NotifyUserIdAsync("u1", "cmd.toUser", new { N = 1 }).DefaultTimeout();
        await api.NotifyUserIdAsync("u1", "cmd.toUserAtWork", new { N = 2 }, channel: "work").DefaultTimeout();

        Assert.Null((await laptop.WaitForAsync("cmd.toUser")).Channel);
        await phone.WaitForAsync("cmd.toUser");
        Assert.Null((await phone.WaitForAsync("cmd.toUserAtWork")).Channel);
        Assert.DoesNotContain(await laptop.BarrierAsync(api), e => e.Selector == "cmd.toUserAtWork");
        Assert.DoesNotContain(await someoneElse.BarrierAsync(api), e => e.Selector.StartsWith("cmd.toUser"));
    }

    [Fact]
    public async Task NotifyUserId_reaches_anonymous_users_by_their_minus_N_id()
    {
        await using var cluster = await StartAsync();
        var anonymous = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyUserIdAsync(anonymous.UserId, "cmd.hello", "anon").DefaultTimeout();

        await anonymous.WaitForAsync("cmd.hello");
    }

    [Fact]
    public async Task NotifyUserName_reaches_the_named_user_with_optional_channel_filter()
    {
        await using var cluster = await StartAsync();
        var bob = await cluster.ConnectAsync(0, "home", user: "u1;bob");
        var bobElsewhere = await cluster.ConnectAsync(1, "other", user: "u1;bob");
        var carol = await cluster.ConnectAsync(2, "home", user: "u2;carol");
        var api = cluster.Api(0);

        await api.NotifyUserNameAsync("bob", "cmd.byName", 1).DefaultTimeout();
        await api.NotifyUserNameAsync("bob", "cmd.byNameHome", 2, channel: "home").DefaultTimeout();

        await bob.WaitForAsync("cmd.byName");
        await bob.WaitForAsync("cmd.byNameHome");
        await bobElsewhere.WaitForAsync("cmd.byName");
        Assert.DoesNotContain(await bobElsewhere.BarrierAsync(api), e => e.Selector == "cmd.byNameHome");
        Assert.DoesNotContain(await carol.BarrierAsync(api), e => e.Selector.StartsWith("cmd.byName"));
    }

    [Fact]
    public async Task NotifySession_reaches_every_connection_sharing_the_session()
    {
        await using var cluster = await StartAsync();
        var tab1 = await cluster.ConnectAsync(0, "home", session: "s-1");
        var tab2 = await cluster.ConnectAsync(1, "other", session: "s-1");
        var otherSession = await cluster.ConnectAsync(2, "home", session: "s-2");
        var api = cluster.Api(2);

        await api.NotifySessionAsync("s-1", "cmd.session", "x").DefaultTimeout();
        await api.NotifySessionJsonAsync("s-1", "cmd.sessionHome", "{\"a\":1}", channel: "home").DefaultTimeout();

        await tab1.WaitForAsync("cmd.session");
        await tab2.WaitForAsync("cmd.session");
        Assert.Equal("{\"a\":1}", (await tab1.WaitForAsync("cmd.sessionHome")).Json);
        Assert.DoesNotContain(await tab2.BarrierAsync(api), e => e.Selector == "cmd.sessionHome");
        Assert.DoesNotContain(await otherSession.BarrierAsync(api), e => e.Selector.StartsWith("cmd.session"));
    }

    [Fact]
    public async Task Default_selector_is_cmd_TypeName_and_payloads_are_camelCase_without_nulls()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyChannelAsync("home", new ChatMessage(1, "hey", null)).DefaultTimeout();

        var e = await client.WaitForAsync(x => x.Selector == "cmd.ChatMessage");
        Assert.Equal("{\"id\":1,\"message\":\"hey\"}", e.Json);
    }

    [Fact]
    public async Task Pre_serialized_json_is_passed_through_and_multi_line_json_is_compacted()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(1);

        await api.NotifyChannelJsonAsync("home", "cmd.raw", "{\"Keep\":\"AsIs\"}").DefaultTimeout();
        await api.NotifyChannelJsonAsync("home", "cmd.pretty", "{\n  \"a\": [1,\r\n 2]\n}").DefaultTimeout();
        await api.NotifyChannelJsonAsync("home", "cmd.empty", "").DefaultTimeout();

        Assert.Equal("{\"Keep\":\"AsIs\"}", (await client.WaitForAsync("cmd.raw")).Json);
        Assert.Equal("{\"a\":[1,2]}", (await client.WaitForAsync("cmd.pretty")).Json);
        Assert.Equal("", (await client.WaitForAsync("cmd.empty")).Json);
    }

    [Fact]
    public async Task Event_ids_increase_with_every_event_and_are_shared_by_all_recipients()
    {
        await using var cluster = await StartAsync();
        var a = await cluster.ConnectAsync(0, "home");
        var b = await cluster.ConnectAsync(1, "home");
        for (var i = 0; i < 20; i++)
        {
            await cluster.Api(i).NotifyChannelAsync("home", "cmd.seq", i).DefaultTimeout();
        }

        var fromA = (await a.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.seq").ToList();
        var fromB = (await b.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.seq").ToList();
        Assert.Equal(20, fromA.Count);
        Assert.Equal(fromA.Select(e => e.Json), Enumerable.Range(0, 20).Select(i => i.ToString()));
        Assert.Equal(fromA.Select(e => e.EventId), fromB.Select(e => e.EventId));
        Assert.All(fromA.Zip(fromA.Skip(1)), pair => Assert.True(pair.Second.EventId > pair.First.EventId));
        var all = a.Events.Select(e => e.EventId).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public async Task Every_client_sees_one_order_of_events_the_id_order_however_they_were_published()
    {
        // Concurrent notifies from every server, to a channel and to users: every client's events increase
        // by id, and two clients see the events they share in the same order. Resuming by last event id
        // relies on exactly this.
        await using var cluster = await StartAsync();
        var clients = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add(await cluster.ConnectAsync(i, "home", user: "u" + i));
        }
        await Task.WhenAll(Enumerable.Range(0, 240).Select(i => Task.Run(() => i % 4 == 3
            ? cluster.Api(i).NotifyUserIdAsync("u" + (i % 3), "cmd.order", i)
            : cluster.Api(i).NotifyChannelAsync("home", "cmd.order", i)))).DefaultTimeout();

        var seen = new List<List<long>>();
        foreach (var client in clients)
        {
            var events = (await client.BarrierAsync(cluster.Api(0))).Where(e => e.Selector == "cmd.order").Select(e => e.EventId).ToList();
            Assert.Equal(180 + 20, events.Count); // every channel notify, and this user's share of the 60 user notifies
            Assert.All(events.Zip(events.Skip(1)), pair => Assert.True(pair.Second > pair.First, $"{pair.Second} after {pair.First}"));
            seen.Add(events);
        }
        var shared = seen[0].Intersect(seen[1]).ToList();
        Assert.Equal(180, shared.Count);
        Assert.Equal(shared, seen[1].Where(shared.Contains));
    }

    [Fact]
    public async Task Hub_groups_are_the_channels()
    {
        await using var cluster = await StartAsync();
        var member = await cluster.ConnectAsync(0, "home");

        await cluster[1].HubContext<ServerEventsHub>().Clients.Group("home").SendAsync("event", new { eventId = 0, channel = "home", selector = "cmd.viaGroup", json = "1" }).DefaultTimeout();

        await member.WaitForAsync("cmd.viaGroup", "home");
    }
}

public sealed record ChatMessage(long Id, string Message, string? FromName);

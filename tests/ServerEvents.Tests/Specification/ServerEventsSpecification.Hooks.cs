using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task Hooks_shape_the_subscription_and_observe_its_life()
    {
        var calls = new ConcurrentQueue<string>();
        await using var cluster = await StartAsync(o =>
        {
            o.Events.OnInit = c =>
            {
                calls.Enqueue("init " + c.HttpContext.Request.Query["team"]);
                return Task.CompletedTask;
            };
            o.Events.OnCreated = c =>
            {
                var sub = c.Subscription;
                sub.Meta["team"] = c.HttpContext!.Request.Query["team"].ToString();
                sub.ConnectArgs["secret"] = "for-you-only";
                sub.DisplayName = sub.DisplayName.ToUpperInvariant();
                calls.Enqueue("created " + sub.SubscriptionId);
                return Task.CompletedTask;
            };
            o.Events.OnConnect = c =>
            {
                c.ConnectArgs["greeting"] = "welcome";
                return Task.CompletedTask;
            };
            o.Events.OnSubscribe = c =>
            {
                calls.Enqueue("subscribed " + c.Subscription.SubscriptionId);
                return Task.CompletedTask;
            };
            o.Events.OnUpdate = c =>
            {
                calls.Enqueue($"updated {c.Subscription.SubscriptionId} {string.Join(',', c.Subscription.Channels)}");
                return Task.CompletedTask;
            };
            o.Events.OnUnsubscribe = c =>
            {
                calls.Enqueue("unsubscribed " + c.Subscription.SubscriptionId);
                return Task.CompletedTask;
            };
            o.Events.OnDispose = c =>
            {
                calls.Enqueue($"disposed {c.Subscription.SubscriptionId} {c.HttpContext is not null}");
                return Task.CompletedTask;
            };
        });
        var watcher = await cluster.ConnectAsync(1, "home");
        var client = await TestClient.ConnectAsync(cluster.HubUrl(0, "channels=home&team=blue"));

        Assert.Equal("welcome", client.ConnectInfo["greeting"]);
        Assert.Equal("for-you-only", client.ConnectInfo["secret"]);
        Assert.Equal("blue", client.ConnectInfo["team"]);
        Assert.StartsWith("USER", client.DisplayName);
        var join = await watcher.WaitForAsync(e => e.Selector == "cmd.onJoin" && e.Meta["userId"] == client.UserId);
        Assert.Equal("blue", join.Meta["team"]);
        Assert.False(join.Meta.ContainsKey("secret"));

        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "extra" }).DefaultTimeout();
        var id = client.Id;
        await client.DisposeAsync();
        await Eventually.TrueAsync(() => Task.FromResult(calls.Contains($"disposed {id} True")), "OnDispose ran");

        Assert.Contains("init blue", calls);
        var mine = calls.Where(c => c.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.Equal(["created " + id, "subscribed " + id, $"updated {id} home,extra", "unsubscribed " + id, $"disposed {id} True"], mine);
    }

    [Fact]
    public async Task A_hook_refuses_a_subscription_with_a_reason_and_leaves_nothing()
    {
        await using var cluster = await StartAsync(o =>
        {
            o.Events.OnInit = c => c.HttpContext.Request.Query.ContainsKey("early")
                ? throw new SubscriptionRefusedException("Not today.")
                : Task.CompletedTask;
            o.Events.OnCreated = c => c.HttpContext!.Request.Query.ContainsKey("banned")
                ? throw new SubscriptionRefusedException("You are banned.")
                : Task.CompletedTask;
        });

        Assert.Contains("Not today.", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&early=1")));
        Assert.Contains("You are banned.", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&banned=1")));
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Channels_set_by_OnCreated_follow_the_rules_limits_and_authorization()
    {
        await using var cluster = await StartAsync(o =>
        {
            o.MaxChannelsPerSubscription = 2;
            o.Events.OnCreated = c =>
            {
                c.Subscription.Channels = c.HttpContext!.Request.Query["set"].ToString().Split('|');
                return Task.CompletedTask;
            };
            o.Events.AuthorizeChannel = c => Task.FromResult(c.Channel != "vault");
        });

        Assert.Contains("contains the forbidden character", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&set=a,b")));
        Assert.Contains("at most 2 channels", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&set=a|b|c")));
        Assert.Contains("Not allowed to join channel 'vault'", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home&set=vault")));
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());

        var moved = await TestClient.ConnectAsync(cluster.HubUrl(0, "channels=home&set=lobby"));
        Assert.Equal("lobby", moved.ConnectInfo["channels"]);
        await moved.DisposeAsync();
    }

    [Fact]
    public async Task A_failing_hook_is_reported_to_OnError_and_the_connection_is_refused()
    {
        var errors = new ConcurrentQueue<SubscriptionErrorContext>();
        await using var cluster = await StartAsync(o =>
        {
            o.Events.OnConnect = _ => throw new InvalidOperationException("the app's own bug");
            o.Events.OnError = c =>
            {
                errors.Enqueue(c);
                return Task.CompletedTask;
            };
        });

        await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home"));

        var error = Assert.Single(errors);
        Assert.Equal("the app's own bug", error.Exception.Message);
        Assert.Equal(["home"], error.Subscription!.Channels);
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());
    }

    [Fact]
    public async Task OnPublish_sees_each_notify_once_before_it_is_sent_and_can_stop_it()
    {
        var published = new ConcurrentQueue<string>();
        await using var cluster = await StartAsync(o => o.Events.OnPublish = c =>
        {
            if (c.Selector == "cmd.forbidden")
            {
                throw new InvalidOperationException("not this one");
            }
            published.Enqueue($"{c.Target} {c.To} {c.Selector} {c.Channel} {c.Json}");
            return Task.CompletedTask;
        });
        var client = await cluster.ConnectAsync(0, "home", user: "u1;alice");
        var api = cluster.Api(1);

        await api.NotifyChannelAsync("home", "cmd.chat", new { text = "hi" }).DefaultTimeout();
        await api.NotifyUserIdAsync("u1", "cmd.direct", 1, channel: "home").DefaultTimeout();
        await api.NotifyAllJsonAsync("cmd.all", "2").DefaultTimeout();
        await Assert.ThrowsAsync<InvalidOperationException>(() => api.NotifyChannelAsync("home", "cmd.forbidden", 3));
        await api.NotifyChannelAsync("home", "cmd.after", 4).DefaultTimeout();

        await client.WaitForAsync("cmd.after", "home");
        Assert.DoesNotContain(client.Events, e => e.Selector == "cmd.forbidden");
        // Only the app's notifies: lifecycle events (onJoin, ...) are the library's own.
        Assert.Equal(["Channel home cmd.chat  {\"text\":\"hi\"}", "UserId u1 cmd.direct home 1", "All  cmd.all  2", "Channel home cmd.after  4"], published);
    }

    [Fact]
    public async Task AuthorizeChannel_refuses_a_channel_at_connect_and_at_runtime_without_changing_anything()
    {
        await using var cluster = await StartAsync(o => o.Events.AuthorizeChannel = c =>
            Task.FromResult(!c.Channel!.StartsWith("admin", StringComparison.Ordinal) || c.User.Identity?.IsAuthenticated == true));

        var refused = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home,admin-room"));
        Assert.Contains("admin-room", refused);
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());

        var anon = await cluster.ConnectAsync(1, "home");
        var ex = await Assert.ThrowsAsync<HubException>(() => anon.Connection.InvokeAsync("SubscribeToChannels", new[] { "news", "admin-room" }).DefaultTimeout());
        Assert.Contains("Not allowed to join channel 'admin-room'", ex.Message);
        Assert.Equal(["home"], (await cluster.Api(2).GetSubscriptionInfoAsync(anon.Id).DefaultTimeout())!.Channels);

        var admin = await cluster.ConnectAsync(2, "home,admin-room", user: "root;root");
        Assert.Equal("home,admin-room", admin.ConnectInfo["channels"]);
    }

    [Fact]
    public async Task AuthorizeChannel_also_decides_who_may_list_a_channels_subscribers()
    {
        var asked = new ConcurrentQueue<string>();
        await using var cluster = await StartAsync(o => o.Events.AuthorizeChannel = c =>
        {
            if (c.Access == ChannelAccess.Join)
            {
                return Task.FromResult(true);
            }
            asked.Enqueue($"{c.Channel ?? "(all)"} by {c.Subscription?.UserId}");
            return Task.FromResult(c.User.Identity?.IsAuthenticated == true && c.Channel != "secret");
        });
        var anon = await cluster.ConnectAsync(0, "home");
        var alice = await cluster.ConnectAsync(1, "home,secret", user: "u1;alice");

        var refused = await Assert.ThrowsAsync<HubException>(() => anon.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "home" }).DefaultTimeout());
        Assert.Contains("Not allowed to list the subscribers of channel 'home'", refused.Message);
        var secret = await Assert.ThrowsAsync<HubException>(() => alice.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "home", "secret" }).DefaultTimeout());
        Assert.Contains("'secret'", secret.Message);
        Assert.Equal(2, (await alice.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "home" }).DefaultTimeout()).Count);
        Assert.Equal(2, (await alice.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", Array.Empty<string>()).DefaultTimeout()).Count);

        Assert.Equal([$"home by {anon.UserId}", "home by u1", "secret by u1", "home by u1", "(all) by u1"], asked);
        // The server's own API is trusted.
        Assert.Single(await cluster.Api(2).GetSubscriptionsDetailsAsync(["secret"]).DefaultTimeout());
    }

    [Fact]
    public async Task LimitToAuthenticatedUsers_refuses_anonymous_subscriptions()
    {
        await using var cluster = await StartAsync(o => o.LimitToAuthenticatedUsers = true);

        var error = await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=home"));
        Assert.Contains("Not authenticated", error);

        var user = await cluster.ConnectAsync(1, "home", user: "u1;alice");
        Assert.Equal("true", user.ConnectInfo["isAuthenticated"]);
    }
}

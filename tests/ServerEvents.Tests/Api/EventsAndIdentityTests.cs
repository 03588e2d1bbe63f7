using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Api;

/// <summary>An events class from DI, refusal for every transport, overridable hub methods, and SignalR's user ids.</summary>
public sealed class EventsAndIdentityTests
{
    /// <summary>A scoped service, as an app's DbContext would be.</summary>
    public sealed class Bans
    {
        public HashSet<string> Names { get; } = ["mallory"];

        public int Instance { get; } = Interlocked.Increment(ref _instances);

        private static int _instances;
    }

    /// <summary>The app's events class: constructor injection, overrides instead of delegates.</summary>
    public sealed class AppEvents(Bans bans, ConcurrentQueue<string> log) : SubscriptionEvents
    {
        public override Task CreatedAsync(SubscriptionContext context)
        {
            log.Enqueue($"created in scope {bans.Instance}");
            if (context.Subscription.UserName is { } name && bans.Names.Contains(name))
            {
                throw new SubscriptionRefusedException($"{name} is banned.");
            }
            return Task.CompletedTask;
        }

        public override Task SubscribeAsync(SubscriptionContext context)
        {
            Assert.Same(bans, context.Services.GetRequiredService<Bans>());
            log.Enqueue($"subscribed in scope {bans.Instance}");
            return Task.CompletedTask;
        }
    }

    public sealed class AuditedHub(ConcurrentQueue<string> log) : ServerEventsHubBase
    {
        public override async Task SubscribeToChannels(string[] channels)
        {
            log.Enqueue("asked for " + string.Join(',', channels));
            await base.SubscribeToChannels(channels);
        }
    }

    /// <summary>Identifies users by their e-mail claim, read from the request as many apps' providers do.</summary>
    public sealed class EmailUserIds : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => connection.GetHttpContext()?.User.FindFirst(ClaimTypes.Email)?.Value;
    }

    /// <summary>An events class that publishes.</summary>
    public sealed class AuditingEvents(ConcurrentQueue<string> log) : SubscriptionEvents
    {
        public override Task PublishAsync(PublishContext context)
        {
            log.Enqueue("published " + context.Selector);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task An_events_type_is_resolved_from_DI_per_connection_scope_and_refuses_hub_and_SSE_clients_alike()
    {
        var log = new ConcurrentQueue<string>();
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddSingleton(log);
                s.AddScoped<Bans>();
                s.AddScoped<AppEvents>();
                s.AddServerEvents(o => o.EventsType = typeof(AppEvents)).AddSseBridge();
            },
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });

        await using var alice = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"), user: "u1;alice");
        var hubRefusal = await TestClient.ConnectRefusedAsync(new Uri(server.BaseUri, "/hub?channels=home"), user: "u2;mallory");
        Assert.Contains("mallory is banned.", hubRefusal, StringComparison.Ordinal);
        var sse = await SseTestClient.OpenAsync(server.BaseUri, "channels=home", user: "u2;mallory");
        Assert.Equal(HttpStatusCode.Forbidden, sse.Response.StatusCode);
        Assert.Contains("mallory is banned.", await sse.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await sse.DisposeAsync();

        Assert.Single(await server.ServerEvents.GetAllSubscriptionInfosAsync().DefaultTimeout());
        // It does not override PublishAsync: notifies do not resolve it.
        Assert.False(server.Services.GetRequiredService<ServerEvents.Internal.ServerEventsHooks>().HasPublishHook);
        // Alice's connect hooks ran in one scope (that of SignalR's OnConnectedAsync call); each connection had its own.
        var created = log.First(l => l.StartsWith("created", StringComparison.Ordinal));
        Assert.Contains(created.Replace("created", "subscribed", StringComparison.Ordinal), log);
        Assert.Equal(3, log.Count(l => l.StartsWith("created", StringComparison.Ordinal)));
        Assert.Equal(3, log.Where(l => l.StartsWith("created", StringComparison.Ordinal)).Distinct().Count());
    }

    [Fact]
    public async Task Hub_methods_can_be_overridden_and_still_do_their_work()
    {
        var log = new ConcurrentQueue<string>();
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddSingleton(log);
                s.AddServerEvents<AuditedHub>();
            },
            app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));

        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "news" }).DefaultTimeout();

        Assert.Equal(["asked for news"], log);
        Assert.Equal(["home", "news"], (await server.ServerEvents.GetSubscriptionInfoAsync(client.Id).DefaultTimeout())!.Channels);
    }

    [Fact]
    public async Task User_ids_come_from_SignalRs_IUserIdProvider_so_Clients_User_and_NotifyUserId_agree()
    {
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddSingleton<IUserIdProvider, EmailUserIds>();
                s.AddServerEvents().AddSseBridge(o => o.ValidateUserAddress = false);
            },
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });
        await using var hub = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"), user: "u1;alice");
        await using var sse = await SseTestClient.ConnectAsync(server.BaseUri, "channels=home", user: "u1;alice");

        Assert.Equal("u1@example.org", hub.UserId);
        Assert.Equal("u1@example.org", sse.UserId);
        await server.ServerEvents.NotifyUserIdAsync("u1@example.org", "cmd.ours", 1).DefaultTimeout();
        await server.HubContext<ServerEventsHub>().Clients.User("u1@example.org").SendAsync(ServerEventsHubBase.ClientMethod,
            new ServerEvent(0, null, "cmd.signalr", "2")).DefaultTimeout();
        await hub.WaitForAsync("cmd.ours");
        await hub.WaitForAsync("cmd.signalr");
        await sse.WaitForAsync("cmd.ours");

        // The SSE bridge's owner check asks the same provider: the same user may drive its stream.
        using var heartbeat = await sse.Http.PostAsync(new Uri(sse.ConnectInfo["heartbeatUrl"]), null).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, heartbeat.StatusCode);
    }

    [Fact]
    public async Task An_events_type_that_publishes_is_asked_per_notify_and_one_not_registered_stops_the_start()
    {
        var log = new ConcurrentQueue<string>();
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddSingleton(log);
                s.AddScoped<AuditingEvents>();
                s.AddServerEvents(o => o.EventsType = typeof(AuditingEvents));
            },
            app => app.MapServerEvents("/hub"));
        Assert.True(server.Services.GetRequiredService<ServerEvents.Internal.ServerEventsHooks>().HasPublishHook);
        await server.ServerEvents.NotifyAllAsync("cmd.one", 1).DefaultTimeout();
        Assert.Equal(["published cmd.one"], log);

        var missing = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            AppServer.StartAsync(s => s.AddServerEvents(o => o.EventsType = typeof(AuditingEvents)), app => app.MapServerEvents("/hub")));
        Assert.Contains("EventsType AuditingEvents is not registered: add services.AddScoped<AuditingEvents>() (or AddSingleton).", missing.Failures);
    }

    [Fact]
    public async Task Listing_is_authorized_against_the_callers_channels_now_and_names_are_checked_before_the_hook()
    {
        var asked = 0;
        await using var server = await AppServer.StartAsync(
            s => s.AddServerEvents(o => o.Events.AuthorizeChannel = c =>
            {
                if (c.Access == ChannelAccess.Join)
                {
                    return Task.FromResult(true);
                }
                Interlocked.Increment(ref asked);
                // List only channels you are in.
                return Task.FromResult(c.Channel is not null && c.Subscription?.Channels.Contains(c.Channel) == true);
            }),
            app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=secret"));
        await client.Connection.InvokeAsync("UnsubscribeFromChannels", new[] { "secret" }).DefaultTimeout();
        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "lobby" }).DefaultTimeout();

        Assert.Single(await client.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "lobby" }).DefaultTimeout());
        await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", new[] { "secret" }).DefaultTimeout());

        asked = 0;
        var tooMany = Enumerable.Range(0, IServerEvents.MaxChannelsPerCall + 1).Select(i => "c" + i).ToArray();
        var refused = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync<List<Dictionary<string, string>>>("GetChannelSubscribers", tooMany).DefaultTimeout());
        Assert.Contains($"At most {IServerEvents.MaxChannelsPerCall} distinct channels", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, asked);
    }

    [Fact]
    public async Task LimitToAuthenticatedUsers_refuses_before_the_apps_hooks_run()
    {
        var inits = 0;
        await using var server = await AppServer.StartAsync(
            s => s.AddServerEvents(o =>
            {
                o.LimitToAuthenticatedUsers = true;
                o.Events.OnInit = _ =>
                {
                    Interlocked.Increment(ref inits);
                    return Task.CompletedTask;
                };
            }),
            app => app.MapServerEvents("/hub"));

        Assert.Contains("Not authenticated", await TestClient.ConnectRefusedAsync(new Uri(server.BaseUri, "/hub?channels=home")), StringComparison.Ordinal);
        Assert.Equal(0, inits);
        await using var user = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"), user: "u1;alice");
        Assert.Equal(1, inits);
    }
}

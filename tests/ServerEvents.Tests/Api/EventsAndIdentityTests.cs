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

    /// <summary>Identifies users by their e-mail claim, as an app with its own IUserIdProvider does.</summary>
    public sealed class EmailUserIds : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) => connection.User?.FindFirst(ClaimTypes.Email)?.Value;
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
        // Alice's two hooks ran in one scope (the connection's); each connection had its own.
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
}

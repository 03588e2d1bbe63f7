using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Redis.Internal;
using ServerEvents.Tests.Fixtures;
using StackExchange.Redis;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>An ordinary SignalR hub on Microsoft's own Redis backplane beside our hub on ours, in one app.</summary>
public sealed class PlainHub : Hub
{
    public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);
}

/// <summary>
/// One app with <c>AddSignalR().AddStackExchangeRedis(…)</c> for an ordinary hub and Server Events on Redis for its own
/// hub, both on the one <see cref="IConnectionMultiplexer"/> the app registered; two servers: both hubs scale out.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class BackplaneCoexistenceTests(RedisFixture redis)
{
    [Fact]
    public async Task Microsofts_backplane_and_ours_share_one_multiplexer_and_both_scale_out()
    {
        var prefix = "co" + Guid.NewGuid().ToString("N")[..8];
        var multiplexers = new List<ConnectionMultiplexer>();
        var cluster = await TestCluster.StartAsync(2, services =>
        {
            // With a channel prefix of the app's own, which StackExchange.Redis puts before every channel it subscribes.
            var multiplexer = ConnectionMultiplexer.Connect(redis.ConnectionString + ",channelPrefix=app1:");
            multiplexers.Add(multiplexer);
            services.AddSingleton<IConnectionMultiplexer>(multiplexer);
            services.AddSignalR().AddStackExchangeRedis(o =>
            {
                o.Configuration.ChannelPrefix = RedisChannel.Literal(prefix);
                o.ConnectionFactory = _ => Task.FromResult<IConnectionMultiplexer>(multiplexer);
            });
            services.AddServerEvents().AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), o => o.Prefix = prefix);
        }, app =>
        {
            app.MapServerEvents("/hub");
            app.MapHub<PlainHub>("/plain");
        });
        try
        {
            // Server Events across the two servers.
            var subscriber = await cluster.ConnectAsync(0, "home");
            await cluster.Api(1).NotifyChannelAsync("home", "cmd.hello", "from server 1").DefaultTimeout();
            await subscriber.WaitForAsync(e => e.Selector == "cmd.hello");

            // The plain hub's group send across the two servers, through Microsoft's backplane.
            await using var plain = new HubConnectionBuilder().WithUrl(new Uri(cluster[0].BaseUri, "/plain")).Build();
            var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            plain.On<string>("said", text => received.TrySetResult(text));
            await plain.StartAsync().DefaultTimeout();
            await plain.InvokeAsync("Join", "room").DefaultTimeout();
            await cluster[1].HubContext<PlainHub>().Clients.Group("room").SendAsync("said", "through Microsoft's backplane").DefaultTimeout();
            Assert.Equal("through Microsoft's backplane", await received.Task.DefaultTimeout());

            // One multiplexer per server served both: ours is the one the app registered, as is Microsoft's (its ConnectionFactory).
            for (var server = 0; server < 2; server++)
            {
                Assert.Same(multiplexers[server], cluster[server].Services.GetRequiredService<RedisBackplane>().Multiplexer);
            }
        }
        finally
        {
            // The app's multiplexer outlives the app: Microsoft's manager unsubscribes through it when the host stops.
            await cluster.DisposeAsync();
            foreach (var multiplexer in multiplexers)
            {
                await multiplexer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_channel_prefix_in_our_own_connection_string_changes_nothing()
    {
        var prefix = "cp" + Guid.NewGuid().ToString("N")[..8];
        await using var cluster = await TestCluster.StartAsync(2,
            services => services.AddServerEvents().AddRedis(redis.ConnectionString + ",channelPrefix=ours:", o => o.Prefix = prefix),
            app => app.MapServerEvents("/hub"));
        var subscriber = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.prefixed", 1).DefaultTimeout();

        await subscriber.WaitForAsync(e => e.Selector == "cmd.prefixed");
    }
}

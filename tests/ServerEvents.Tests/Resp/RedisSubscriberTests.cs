using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using ServerEvents.Resp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Resp;

[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisSubscriberTests(RedisFixture redis)
{
    [Fact]
    public async Task Receives_what_is_published_after_subscribe_returns_in_order()
    {
        await using var publisher = new RedisConnection(RedisConnectionOptions.Parse(redis.ConnectionString), NullLogger.Instance);
        await publisher.ConnectAsync().DefaultTimeout();
        await using var subscriber = new RedisSubscriber(RedisConnectionOptions.Parse(redis.ConnectionString), NullLogger.Instance);
        await subscriber.ConnectAsync().DefaultTimeout();
        var received = Channel.CreateUnbounded<string>();
        var channel = "ch:" + Guid.NewGuid().ToString("N");

        await subscriber.SubscribeAsync(channel, (_, payload) => received.Writer.TryWrite(Encoding.UTF8.GetString(payload.Span))).DefaultTimeout();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(1, (await publisher.ExecuteAsync(RespCommand.Create("PUBLISH", channel, $"m{i}")).DefaultTimeout()).Integer);
        }

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal($"m{i}", await received.Reader.ReadAsync().AsTask().DefaultTimeout());
        }
        await subscriber.UnsubscribeAsync(channel).DefaultTimeout();
        Assert.Equal(0, (await publisher.ExecuteAsync(RespCommand.Create("PUBLISH", channel, "gone")).DefaultTimeout()).Integer);
    }

    [Fact]
    public async Task Subscriptions_resume_by_themselves_after_the_server_restarts()
    {
        await using var server = await RedisServer.StartAsync();
        var options = RedisConnectionOptions.Parse(server.ConnectionString);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
        await using var subscriber = new RedisSubscriber(options, NullLogger.Instance);
        await subscriber.ConnectAsync().DefaultTimeout();
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.Reconnected += () =>
        {
            reconnected.TrySetResult();
            return Task.CompletedTask;
        };
        var received = Channel.CreateUnbounded<string>();
        for (var i = 0; i < 3; i++)
        {
            var name = $"c{i}";
            await subscriber.SubscribeAsync(name, (ch, payload) => received.Writer.TryWrite(ch + "=" + Encoding.UTF8.GetString(payload.Span))).DefaultTimeout();
        }

        await server.KillAsync();
        await server.RestartAsync();
        await reconnected.Task.DefaultTimeout();

        await using var publisher = new RedisConnection(options, NullLogger.Instance);
        await publisher.ConnectAsync().DefaultTimeout();
        Assert.Equal(1, (await publisher.ExecuteAsync(RespCommand.Create("PUBLISH", "c2", "back")).DefaultTimeout()).Integer);
        Assert.Equal("c2=back", await received.Reader.ReadAsync().AsTask().DefaultTimeout());
    }
}

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
    public async Task Every_message_redis_counted_as_received_reaches_the_handler_even_while_unsubscribing()
    {
        // PUBLISH's reply says who received a message: a caller relies on it (a client result call waits for an
        // answer), so what Redis sent before it took the UNSUBSCRIBE must still reach the handler.
        await using var publisher = new RedisConnection(RedisConnectionOptions.Parse(redis.ConnectionString), NullLogger.Instance);
        await publisher.ConnectAsync().DefaultTimeout();
        await using var subscriber = new RedisSubscriber(RedisConnectionOptions.Parse(redis.ConnectionString), NullLogger.Instance);
        await subscriber.ConnectAsync().DefaultTimeout();
        for (var round = 0; round < 5; round++)
        {
            var channel = "ch:" + Guid.NewGuid().ToString("N");
            var received = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
            await subscriber.SubscribeAsync(channel, (_, payload) => received[Encoding.UTF8.GetString(payload.Span)] = true).DefaultTimeout();
            using var stop = new CancellationTokenSource();
            var counted = new System.Collections.Concurrent.ConcurrentBag<string>();
            var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var message = $"{p}:{i}";
                    if ((await publisher.ExecuteAsync(RespCommand.Create("PUBLISH", channel, message))).Integer == 1)
                    {
                        counted.Add(message);
                    }
                }
            })).ToList();
            await Task.Delay(50);
            await subscriber.UnsubscribeAsync(channel).DefaultTimeout();
            await stop.CancelAsync();
            await Task.WhenAll(publishers).DefaultTimeout();
            var missing = counted.Where(m => !received.ContainsKey(m)).ToList();
            Assert.True(missing.Count == 0, $"round {round}: {missing.Count} of {counted.Count} messages Redis delivered never reached the handler");
        }
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

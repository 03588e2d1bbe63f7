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
    public async Task A_channel_unsubscribed_while_the_others_are_resubscribed_stays_unsubscribed()
    {
        // Thousands of channels are resubscribed in batches after a reconnect; one unsubscribed meanwhile must not be
        // subscribed again by a later batch (Redis would count this server as receiving it, with no handler for it).
        await using var server = await RedisServer.StartAsync();
        var options = RedisConnectionOptions.Parse(server.ConnectionString);
        options.MinReconnectDelay = TimeSpan.FromMilliseconds(1);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(5);
        await using var subscriber = new RedisSubscriber(options, NullLogger.Instance);
        await subscriber.ConnectAsync().DefaultTimeout();
        var channels = Enumerable.Range(0, 20_000).Select(i => $"c{i}").ToList();
        foreach (var batch in channels.Chunk(1000))
        {
            await Task.WhenAll(batch.Select(c => subscriber.SubscribeAsync(c, (_, _) => { }))).DefaultTimeout();
        }
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.Reconnected += () =>
        {
            reconnected.TrySetResult();
            return Task.CompletedTask;
        };
        await using var admin = await server.ConnectAsync();

        await admin.ExecuteAsync(RespCommand.Create("CLIENT", "KILL", "TYPE", "pubsub")).DefaultTimeout();
        // From the last channel back, while the resubscription runs.
        var unsubscribed = new List<string>();
        for (var i = channels.Count - 1; i >= 0 && !reconnected.Task.IsCompleted; i -= 7)
        {
            await subscriber.UnsubscribeAsync(channels[i]).DefaultTimeout();
            unsubscribed.Add(channels[i]);
        }
        await reconnected.Task.DefaultTimeout();

        var stillSubscribed = new List<string>();
        foreach (var channel in unsubscribed)
        {
            if ((await admin.ExecuteAsync(RespCommand.Create("PUBLISH", channel, "x")).DefaultTimeout()).Integer != 0)
            {
                stillSubscribed.Add(channel);
            }
        }
        Assert.True(stillSubscribed.Count == 0, $"{stillSubscribed.Count} of {unsubscribed.Count} channels unsubscribed during the resubscription were subscribed again");
        Assert.Equal(1, (await admin.ExecuteAsync(RespCommand.Create("PUBLISH", channels[1], "x")).DefaultTimeout()).Integer);
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

using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Redis.Internal;
using ServerEvents.Tests.Fixtures;
using StackExchange.Redis;

namespace ServerEvents.Tests.Unit;

[Trait("Category", "Redis")]
public sealed class RedisVersionTests
{
    [Fact]
    public async Task The_start_checks_the_version_each_server_reports()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await TestCluster.StartAsync(1, s => s.AddServerEvents().AddRedis(redis.ConnectionString, o => o.Prefix = "v"), app => app.MapServerEvents("/hub"));
        var reported = cluster[0].Services.GetRequiredService<RedisBackplane>().Multiplexer.GetServers()[0].Version;

        Assert.True(reported >= new Version(7, 0), $"redis-server reported {reported}");
        RedisBackplane.RequireVersion(redis.ConnectionString, reported);
        var error = Assert.Throws<NotSupportedException>(() => RedisBackplane.RequireVersion("redis01:6379", new Version(6, 2, 14)));
        Assert.Equal("Redis at redis01:6379 is version 6.2.14: Server Events needs Redis 7.0 or later.", error.Message);
    }
}

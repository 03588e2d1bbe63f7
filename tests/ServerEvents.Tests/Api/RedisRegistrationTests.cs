using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Api;

/// <summary>Redis set up from configuration: a stable default prefix, and a health check that says where it runs.</summary>
[Trait("Category", "Redis")]
public sealed class RedisRegistrationTests
{
    [Fact]
    public async Task Configuration_names_Redis_the_default_prefix_is_stable_and_the_health_check_says_standalone()
    {
        // A redis-server of its own: the default prefix is the same for every app on it.
        await using var redis = await RedisServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        }).Build();
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddServerEvents<RegistrationTests.AppHub>().AddRedisFromConfiguration(configuration);
                s.AddHealthChecks().AddServerEvents();
            },
            app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));
        await server.ServerEvents.NotifyChannelAsync("home", "cmd.chat", 1).DefaultTimeout();
        await client.WaitForAsync("cmd.chat", "home");

        await using var admin = await RedisAdmin.ConnectAsync(redis.ConnectionString);
        var keys = ((StackExchange.Redis.RedisResult[])(await admin.ExecuteAsync("KEYS", "*"))!).Select(k => (string)k!).ToList();
        Assert.NotEmpty(keys);
        // Not derived from the hub's class name: renaming it cannot split servers in a rolling deploy.
        Assert.All(keys, k => Assert.StartsWith("{serverevents}:", k, StringComparison.Ordinal));

        var entry = (await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().DefaultTimeout()).Entries["server-events"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("redis", entry.Data["backend"]);
        Assert.Equal("standalone", entry.Data["redisMode"]);
        Assert.Equal("{serverevents}", entry.Data["prefix"]);
    }
}

/// <summary>The health check names a Redis Cluster as such.</summary>
[Collection(RedisClusterTestGroup.Name)]
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterRegistrationTests(RedisClusterFixture redis)
{
    [Fact]
    public async Task The_health_check_says_cluster()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerEvents:Redis"] = redis.ConnectionString,
        }).Build();
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var server = await AppServer.StartAsync(
            s =>
            {
                s.AddServerEvents().AddRedisFromConfiguration(configuration, o => o.Prefix = prefix);
                s.AddHealthChecks().AddServerEvents();
            },
            app => app.MapServerEvents("/hub"));
        await using var client = await TestClient.ConnectAsync(new Uri(server.BaseUri, "/hub?channels=home"));

        var entry = (await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().DefaultTimeout()).Entries["server-events"];
        Assert.Equal("redis", entry.Data["backend"]);
        Assert.Equal("cluster", entry.Data["redisMode"]);
        Assert.Equal("{" + prefix + "}", entry.Data["prefix"]);
    }
}

using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sse;

/// <summary>The SSE bridge suite on one server with the memory back-end.</summary>
public sealed class MemorySseBridgeTests : SseBridgeSpecification
{
    protected override int ServerCount => 1;

    protected override void UseBackend(IServerEventsBuilder builder)
    {
    }
}

/// <summary>The SSE bridge suite on three servers sharing one real redis-server.</summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisSseBridgeTests(RedisFixture redis) : SseBridgeSpecification
{
    private readonly string _prefix = "b" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

/// <summary>The SSE bridge suite on three servers sharing a real Redis Cluster.</summary>
[Collection(RedisClusterTestGroup.Name)]
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterSseBridgeTests(RedisClusterFixture redis) : SseBridgeSpecification
{
    private readonly string _prefix = "b" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Tests.Fixtures;
using ServerEvents.Tests.Specification;

namespace ServerEvents.Tests.Backends;

/// <summary>
/// The shared suite, unchanged, on three app servers sharing one real redis-server: every client and
/// API call in it lands on a different server, so every test is also a scale-out test.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisServerEventsTests(RedisFixture redis) : ServerEventsSpecification
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

/// <summary>The shared suite, unchanged, on three app servers sharing a real Redis Cluster of three masters.</summary>
[Collection(RedisClusterTestGroup.Name)]
[Trait("Category", "RedisCluster")]
public sealed class RedisClusterServerEventsTests(RedisClusterFixture redis) : ServerEventsSpecification
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..10];

    protected override int ServerCount => 3;

    protected override void UseBackend(IServerEventsBuilder builder) =>
        builder.AddRedis(redis.ConnectionString, o => o.Prefix = _prefix);
}

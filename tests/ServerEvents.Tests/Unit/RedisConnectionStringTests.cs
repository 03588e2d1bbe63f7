using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Tests.Unit;

public sealed class RedisConnectionStringTests
{
    [Theory]
    [InlineData("localhost", "localhost:6379")]
    [InlineData("localhost:6380", "localhost:6380")]
    [InlineData("10.0.0.5:7000,10.0.0.6:7001", "10.0.0.5:7000,10.0.0.6:7001")]
    [InlineData("redis://cache.internal", "cache.internal:6379")]
    [InlineData("rediss://cache.internal:6390/1", "cache.internal:6390")]
    public void Names_the_endpoints(string text, string endpoints)
    {
        Assert.Equal(endpoints, RedisConnectionString.Describe(RedisConnectionString.Parse(text)));
    }

    [Fact]
    public void Takes_StackExchange_Redis_options_as_they_are()
    {
        var o = RedisConnectionString.Parse("redis1:6380,password=s3cret,user=app,ssl=true,defaultDatabase=2,connectTimeout=1500,syncTimeout=800,name=chat,abortConnect=false,checkCertificateRevocation=false");
        Assert.Equal(("app", "s3cret", true, 2, "chat", 1500, 800, false), (o.User, o.Password, o.Ssl, o.DefaultDatabase, o.ClientName, o.ConnectTimeout, o.SyncTimeout, o.CheckCertificateRevocation));
        Assert.DoesNotContain("s3cret", RedisConnectionString.Describe(o));
    }

    [Theory]
    [InlineData("redis://alice:p%40ss@h:1234/3", "alice", "p@ss", 3, false)]
    [InlineData("redis://:onlypass@h:1234", null, "onlypass", null, false)]
    [InlineData("redis://lonepass@h", null, "lonepass", null, false)]
    [InlineData("rediss://h:6380/1", null, null, 1, true)]
    public void Turns_redis_URLs_into_options(string text, string? user, string? password, int? db, bool ssl)
    {
        var o = RedisConnectionString.Parse(text);
        Assert.Equal((user, password, db, ssl), (o.User, o.Password, o.DefaultDatabase, o.Ssl));
    }

    [Theory]
    [InlineData("host,bogus=1", "bogus")]
    [InlineData("password=x", "no endpoint")]
    [InlineData("redis://h/notadb", "database")]
    public void Bad_strings_are_refused_with_the_reason(string text, string reason)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => RedisConnectionString.Parse(text));
        Assert.Contains(reason, ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}

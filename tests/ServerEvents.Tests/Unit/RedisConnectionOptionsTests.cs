using ServerEvents.Resp;

namespace ServerEvents.Tests.Unit;

public sealed class RedisConnectionOptionsTests
{
    [Theory]
    [InlineData("localhost", "localhost", 6379)]
    [InlineData("localhost:6380", "localhost", 6380)]
    [InlineData(" 10.0.0.5:7000 ", "10.0.0.5", 7000)]
    [InlineData("[::1]:6390", "::1", 6390)]
    [InlineData("redis://cache.internal", "cache.internal", 6379)]
    public void Parses_endpoints(string text, string host, int port)
    {
        var options = RedisConnectionOptions.Parse(text);
        Assert.Equal(host, options.Host);
        Assert.Equal(port, options.Port);
    }

    [Fact]
    public void Parses_the_StackExchange_form()
    {
        var o = RedisConnectionOptions.Parse("redis1:6380,password=s3cret,user=app,ssl=true,defaultDatabase=2,connectTimeout=1500,syncTimeout=800,name=chat,abortConnect=false");
        Assert.Equal(("redis1", 6380, "app", "s3cret", true, 2, "chat"), (o.Host, o.Port, o.User, o.Password, o.Ssl, o.Database, o.ClientName));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(800), o.CommandTimeout);
        Assert.DoesNotContain("s3cret", o.ToString());
        Assert.Contains("password=*****", o.ToString());
    }

    [Theory]
    [InlineData("redis://alice:p%40ss@h:1234/3", "alice", "p@ss", 3, false)]
    [InlineData("redis://:onlypass@h:1234", null, "onlypass", 0, false)]
    [InlineData("redis://lonepass@h", null, "lonepass", 0, false)]
    [InlineData("rediss://h:6380/1", null, null, 1, true)]
    public void Parses_redis_URIs(string text, string? user, string? password, int db, bool ssl)
    {
        var o = RedisConnectionOptions.Parse(text);
        Assert.Equal((user, password, db, ssl), (o.User, o.Password, o.Database, o.Ssl));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("host:notaport", "port")]
    [InlineData("host:70000", "port")]
    [InlineData("host,ssl=maybe", "ssl")]
    [InlineData("host,bogus=1", "Unknown Redis connection option 'bogus'")]
    [InlineData("password=x", "names no host")]
    [InlineData("a:1,b:2", "Only one Redis endpoint")]
    [InlineData("host,defaultDatabase=-1", "defaultDatabase")]
    public void Bad_strings_are_refused_with_the_reason(string text, string reason)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => RedisConnectionOptions.Parse(text));
        Assert.Contains(reason, ex.Message);
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using ServerEvents.Resp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Resp;

[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class RedisConnectionTests(RedisFixture redis)
{
    private static RespCommand Cmd(string name, params object[] args) => RespCommand.Create(name, args);

    private static async Task<RedisConnection> ConnectAsync(string connectionString, Action<RedisConnectionOptions>? tweak = null)
    {
        var options = RedisConnectionOptions.Parse(connectionString);
        tweak?.Invoke(options);
        var connection = new RedisConnection(options, NullLogger.Instance);
        await connection.ConnectAsync().DefaultTimeout();
        return connection;
    }

    [Fact]
    public async Task Every_reply_type_round_trips()
    {
        await using var c = await ConnectAsync(redis.ConnectionString);
        var key = "t:" + Guid.NewGuid().ToString("N");

        Assert.Equal("PONG", (await c.ExecuteAsync(Cmd("PING")).DefaultTimeout()).AsString());
        Assert.Equal(1, (await c.ExecuteAsync(Cmd("INCR", key)).DefaultTimeout()).Integer);
        Assert.True((await c.ExecuteAsync(Cmd("GET", key + ":missing")).DefaultTimeout()).IsNull);
        await c.ExecuteAsync(Cmd("RPUSH", key + ":list", "a", "b")).DefaultTimeout();
        Assert.Equal("[a, b]", (await c.ExecuteAsync(Cmd("LRANGE", key + ":list", 0L, -1L)).DefaultTimeout()).ToString());
        var nested = await c.ExecuteAsync(Cmd("EVAL", "return {1, {'x', false}, 'y'}", 0L)).DefaultTimeout();
        Assert.Equal("[1, [x, (nil)], y]", nested.ToString());
        var error = await Assert.ThrowsAsync<RedisServerException>(() => c.ExecuteAsync(Cmd("INCR", key + ":list")));
        Assert.Contains("WRONGTYPE", error.Message);
        Assert.Contains(redis.ConnectionString, error.Message);
    }

    [Fact]
    public async Task Large_and_binary_values_round_trip()
    {
        await using var c = await ConnectAsync(redis.ConnectionString);
        var key = "big:" + Guid.NewGuid().ToString("N");
        var value = new byte[3 * 1024 * 1024 + 7];
        new Random(1).NextBytes(value);

        await c.ExecuteAsync(Cmd("SET", key, value)).DefaultTimeout();
        var read = await c.ExecuteAsync(Cmd("GET", key)).DefaultTimeout();

        Assert.True(read.Bytes.Span.SequenceEqual(value));
    }

    [Fact]
    public async Task Concurrent_callers_are_pipelined_on_one_socket_and_get_their_own_replies()
    {
        await using var c = await ConnectAsync(redis.ConnectionString);
        var prefix = "p:" + Guid.NewGuid().ToString("N");

        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
        {
            await c.ExecuteAsync(Cmd("SET", $"{prefix}:{i}", $"v{i}"));
            return (await c.ExecuteAsync(Cmd("GET", $"{prefix}:{i}"))).AsString();
        }))).DefaultTimeout();

        Assert.Equal(Enumerable.Range(0, 2000).Select(i => $"v{i}"), results);
        var id = (await c.ExecuteAsync(Cmd("CLIENT", "ID")).DefaultTimeout()).Integer;
        var clients = (await c.ExecuteAsync(Cmd("CLIENT", "LIST")).DefaultTimeout()).AsString()!;
        Assert.Contains(clients.Split('\n'), line => line.StartsWith($"id={id} ", StringComparison.Ordinal) && line.Contains("name=serverevents-cmd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Database_and_client_name_are_applied()
    {
        await using var db2 = await ConnectAsync(redis.ConnectionString + ",defaultDatabase=2,name=tests");
        await using var db0 = await ConnectAsync(redis.ConnectionString);
        var key = "db:" + Guid.NewGuid().ToString("N");

        await db2.ExecuteAsync(Cmd("SET", key, "x")).DefaultTimeout();

        Assert.True((await db0.ExecuteAsync(Cmd("GET", key)).DefaultTimeout()).IsNull);
        Assert.Equal("x", (await db2.ExecuteAsync(Cmd("GET", key)).DefaultTimeout()).AsString());
        Assert.Equal("tests-cmd", (await db2.ExecuteAsync(Cmd("CLIENT", "GETNAME")).DefaultTimeout()).AsString());
    }

    [Fact]
    public async Task Password_and_ACL_users_authenticate_and_failures_never_show_the_password()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "top-secret");
        await using (var admin = await ConnectAsync(server.ConnectionString + ",password=top-secret"))
        {
            await admin.ExecuteAsync(Cmd("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all")).DefaultTimeout();
        }
        await using var alice = await ConnectAsync($"redis://alice:alice-pw@127.0.0.1:{server.Port}");
        Assert.Equal("alice", (await alice.ExecuteAsync(Cmd("ACL", "WHOAMI")).DefaultTimeout()).AsString());

        var wrong = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectAsync(server.ConnectionString + ",password=not-it"));
        Assert.Contains(server.ConnectionString, wrong.Message);
        Assert.Contains("refused AUTH", wrong.Message);
        Assert.DoesNotContain("not-it", wrong.Message);
    }

    [Fact]
    public async Task Unreachable_server_fails_fast_naming_the_endpoint()
    {
        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectAsync("127.0.0.1:1,connectTimeout=2000"));
        Assert.Contains("127.0.0.1:1", error.Message);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Command_timeout_is_reported_as_a_Redis_timeout()
    {
        await using var c = await ConnectAsync(redis.ConnectionString, o => o.CommandTimeout = TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => c.ExecuteAsync(Cmd("BLPOP", "nothing:" + Guid.NewGuid(), 1L)));

        Assert.Contains("BLPOP", error.Message);
        // The late reply is matched to the abandoned command, so later callers still get their own replies.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await c.ExecuteAsync(Cmd("ECHO", "mine"))).AsString() == "mine";
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }, "the connection answers again once BLPOP has returned");
    }

    [Fact]
    public async Task Killing_the_server_fails_commands_fast_and_they_work_again_after_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var c = await ConnectAsync(server.ConnectionString, o => o.MaxReconnectDelay = TimeSpan.FromMilliseconds(200));
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        c.Reconnected += () => reconnected.TrySetResult();
        await c.ExecuteAsync(Cmd("SET", "k", "before")).DefaultTimeout();

        await server.KillAsync();
        await Eventually.TrueAsync(() => Task.FromResult(!c.IsConnected), "the connection notices the kill");
        var stopwatch = Stopwatch.StartNew();
        var down = await Assert.ThrowsAsync<RedisConnectionException>(() => c.ExecuteAsync(Cmd("GET", "k")));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"failing took {stopwatch.Elapsed}");
        Assert.Contains(server.ConnectionString, down.Message);

        await server.RestartAsync();
        await reconnected.Task.DefaultTimeout();
        Assert.True((await c.ExecuteAsync(Cmd("GET", "k")).DefaultTimeout()).IsNull);
        await c.ExecuteAsync(Cmd("SET", "k", "after")).DefaultTimeout();
    }
}

namespace ServerEvents.Tests.Fixtures;

/// <summary>Redis as the tests start it: one redis-server (<see cref="RedisServer"/>) or a cluster (<see cref="RedisCluster"/>).</summary>
public abstract class RedisDeployment : IAsyncDisposable
{
    /// <summary>What <c>AddRedis(…)</c> takes to reach it.</summary>
    public abstract string ConnectionString { get; }

    /// <summary>Kills every process abruptly (SIGKILL) and waits for them to be gone.</summary>
    public abstract Task KillAsync();

    /// <summary>Starts every process again on its port; without persistence all data is gone, as after a real crash.</summary>
    public abstract Task RestartAsync();

    /// <summary>A connected client of our own (for admin commands: CLIENT KILL, FLUSHALL, …); <paramref name="options"/> is appended to the connection string.</summary>
    public Task<RedisAdmin> ConnectAsync(string options = "") => RedisAdmin.ConnectAsync(ConnectionString + options);

    public abstract ValueTask DisposeAsync();
}

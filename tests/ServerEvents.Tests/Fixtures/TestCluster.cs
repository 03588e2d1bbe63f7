using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// The app servers of one test, all on one back-end. Indexes wrap around, so a test written for
/// "client on server 0, client on server 1, API call on server 2" runs on one memory server and,
/// unchanged, across three servers sharing Redis.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<AppServer> _servers;
    private readonly List<TestClient> _clients = [];

    private TestCluster(List<AppServer> servers) => _servers = servers;

    public int Count => _servers.Count;

    public AppServer this[int index] => _servers[index % _servers.Count];

    public IServerEvents Api(int index = 0) => this[index].ServerEvents;

    public static async Task<TestCluster> StartAsync(int servers, Action<IServiceCollection> configureServices, Action<WebApplication> configureApp)
    {
        var started = new List<AppServer>();
        try
        {
            for (var i = 0; i < servers; i++)
            {
                started.Add(await AppServer.StartAsync(configureServices, configureApp));
            }
        }
        catch
        {
            foreach (var server in started)
            {
                await server.DisposeAsync();
            }
            throw;
        }
        return new TestCluster(started);
    }

    /// <summary>
    /// Waits until every server reads its Redis inbox again and has back-filled its connections (Redis back-end): the
    /// back-fill covers events kept in history; what is sent to one connection alone before that can be lost.
    /// </summary>
    public Task InboxesReadAsync() => Eventually.TrueAsync(() => Task.FromResult(_servers.All(s =>
        s.Services.GetService(typeof(Redis.Internal.RedisBackplane)) is not Redis.Internal.RedisBackplane backplane
        || (backplane.InboxLive && backplane.AwaitingBackfill == 0))), "a server did not read its inbox again");

    public Uri HubUrl(int server, string? query = null, string path = "/hub") =>
        new(this[server].BaseUri, path + (query is null ? "" : "?" + query));

    /// <summary>Connects a hub client to server <paramref name="server"/>; closed with the cluster.</summary>
    /// <remarks>Returns once the client is in all its groups, as <see cref="TestClient.ConnectAsync"/> does.</remarks>
    public async Task<TestClient> ConnectAsync(int server, string? channels = null, string? user = null, string? session = null, string path = "/hub", bool awaitJoins = true, long? lastEventId = null)
    {
        var query = new List<string>();
        if (channels is not null)
        {
            query.Add("channels=" + channels);
        }
        if (lastEventId is not null)
        {
            query.Add("lastEventId=" + lastEventId);
        }
        var client = await TestClient.ConnectAsync(HubUrl(server, query.Count == 0 ? null : string.Join('&', query), path), user, awaitJoins, session: session);
        lock (_clients)
        {
            _clients.Add(client);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var client in _clients)
            {
                await client.DisposeAsync();
            }
        }
        finally
        {
            foreach (var server in _servers)
            {
                await server.DisposeAsync();
            }
        }
    }
}

using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Tests.Fixtures;
using StackExchange.Redis;

namespace ServerEvents.Tests.Reference;

/// <summary>The hub Microsoft's backplane runs in the comparison: SignalR only, nothing of ours.</summary>
public sealed class ReferenceHub : Hub;

/// <summary>
/// Two app servers on one redis-server, through one backplane: ours (the Server Events hub on our Redis manager) or
/// Microsoft's (<c>AddStackExchangeRedis</c>, an ordinary hub) — driven the same way, through <c>IHubContext</c> and the
/// <c>HubLifetimeManager</c>, so that a test can run a scenario on both and compare what each caller sees.
/// </summary>
public sealed class ReferenceDeployment : IAsyncDisposable
{
    private const string Path = "/ref";
    private readonly TestCluster _servers;
    private readonly Func<int, IHubClients> _clients;
    private readonly Func<int, IGroupManager> _groups;
    private readonly Func<int, string, CompletionMessage, Task> _setResult;

    private ReferenceDeployment(string name, TestCluster servers, Func<int, IHubClients> clients, Func<int, IGroupManager> groups, Func<int, string, CompletionMessage, Task> setResult)
    {
        Name = name;
        _servers = servers;
        _clients = clients;
        _groups = groups;
        _setResult = setResult;
    }

    public string Name { get; }

    public static async Task<ReferenceDeployment> OursAsync(string redis)
    {
        var prefix = "ours" + Guid.NewGuid().ToString("N")[..8];
        var servers = await TestCluster.StartAsync(2, services => services.AddServerEvents().AddRedis(redis, o => o.Prefix = prefix), app => app.MapServerEvents(Path));
        return new ReferenceDeployment("ours", servers, i => servers[i].HubContext<ServerEventsHub>().Clients, i => servers[i].HubContext<ServerEventsHub>().Groups,
            (i, connectionId, completion) => servers[i].Services.GetRequiredService<HubLifetimeManager<ServerEventsHub>>().SetConnectionResultAsync(connectionId, completion));
    }

    public static async Task<ReferenceDeployment> MicrosoftsAsync(string redis)
    {
        var prefix = "ms" + Guid.NewGuid().ToString("N")[..8];
        var servers = await TestCluster.StartAsync(2, services => services.AddSignalR().AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal(prefix)),
            app => app.MapHub<ReferenceHub>(Path));
        return new ReferenceDeployment("Microsoft's", servers, i => servers[i].HubContext<ReferenceHub>().Clients, i => servers[i].HubContext<ReferenceHub>().Groups,
            (i, connectionId, completion) => servers[i].Services.GetRequiredService<HubLifetimeManager<ReferenceHub>>().SetConnectionResultAsync(connectionId, completion));
    }

    public Uri HubUrl(int server) => new(_servers[server].BaseUri, Path);

    public ISingleClientProxy Client(int server, string connectionId) => _clients(server).Client(connectionId);

    /// <summary>Server <paramref name="server"/>'s <c>Clients</c>, as <c>IHubContext</c> gives them.</summary>
    public IHubClients Clients(int server) => _clients(server);

    /// <summary>Server <paramref name="server"/>'s <c>Groups</c>, as <c>IHubContext</c> gives them.</summary>
    public IGroupManager Groups(int server) => _groups(server);

    public Task SetResultAsync(int server, string connectionId, CompletionMessage completion) => _setResult(server, connectionId, completion);

    /// <summary>
    /// The official client, connected to <paramref name="server"/>, returned once the other server can reach it:
    /// Microsoft's backplane subscribes a connection's channel after the handshake, and a call made before that finds no one.
    /// </summary>
    public async Task<HubConnection> ConnectAsync(int server, string? user = null)
    {
        var connection = new HubConnectionBuilder().WithUrl(HubUrl(server), o =>
        {
            if (user is not null)
            {
                o.Headers[TestAuthHandler.Header] = user;
            }
        }).Build();
        var reachable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (connection.On("reachable", () => reachable.TrySetResult()))
        {
            await connection.StartAsync().DefaultTimeout();
            await UntilReachableAsync(server, connection.ConnectionId!, reachable.Task);
        }
        return connection;
    }

    /// <summary>Sends "reachable" to the connection from the other server until <paramref name="arrived"/> says it came.</summary>
    private async Task UntilReachableAsync(int server, string connectionId, Task arrived)
    {
        var other = Client(1 - server, connectionId);
        for (var attempt = 0; !arrived.IsCompleted; attempt++)
        {
            if (attempt == 100)
            {
                throw new TimeoutException($"Connection {connectionId} was not reachable from the other server within 5 s.");
            }
            await other.SendAsync("reachable").DefaultTimeout();
            await Task.WhenAny(arrived, Task.Delay(50));
        }
    }

    /// <summary>A client at the byte level (JSON protocol over a WebSocket after negotiate), which sees invocation ids.</summary>
    public async Task<RawHubClient> ConnectRawAsync(int server)
    {
        using var http = new HttpClient();
        var negotiated = await (await http.PostAsync(new Uri(HubUrl(server) + "/negotiate?negotiateVersion=1"), null).DefaultTimeout())
            .Content.ReadFromJsonAsync<JsonElement>().DefaultTimeout();
        var socket = new ClientWebSocket();
        var url = new UriBuilder(HubUrl(server)) { Scheme = "ws", Query = "id=" + negotiated.GetProperty("connectionToken").GetString() }.Uri;
        await socket.ConnectAsync(url, CancellationToken.None).DefaultTimeout();
        var client = new RawHubClient(socket, negotiated.GetProperty("connectionId").GetString()!);
        await client.SendAsync("""{"protocol":"json","version":1}""");
        await client.ReceiveAsync(_ => true);
        await UntilReachableAsync(server, client.ConnectionId, client.ReceiveAsync(r => r.TryGetProperty("target", out var t) && t.GetString() == "reachable"));
        return client;
    }

    public ValueTask DisposeAsync() => _servers.DisposeAsync();
}

/// <summary>SignalR's JSON hub protocol by hand: records ending in 0x1E, read one at a time.</summary>
public sealed class RawHubClient(ClientWebSocket socket, string connectionId) : IAsyncDisposable
{
    private readonly StringBuilder _pending = new();

    public string ConnectionId { get; } = connectionId;

    public Task SendAsync(string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + "\u001e"), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();

    /// <summary>The next record that matches, skipping the others (events, pings).</summary>
    public async Task<JsonElement> ReceiveAsync(Func<JsonElement, bool> match)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf('\u001e', StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 1);
                var record = JsonDocument.Parse(text[..end]).RootElement;
                if (match(record))
                {
                    return record;
                }
                continue;
            }
            var read = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            if (read.MessageType == WebSocketMessageType.Close)
            {
                throw new IOException("The server closed the connection.");
            }
            _pending.Append(Encoding.UTF8.GetString(buffer, 0, read.Count));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }
}

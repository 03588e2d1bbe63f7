using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Sse;

public abstract partial class SseBridgeSpecification
{
    [Fact]
    public async Task A_hub_client_cannot_negotiate_the_bridges_internal_protocol()
    {
        await using var cluster = await StartAsync();

        using var socket = await RawHubSocketAsync(cluster.HubUrl(0, "channels=home"));
        await SendRecordAsync(socket, "{\"protocol\":\"servicestack-sse\",\"version\":1}");
        var answer = await ReceiveAllAsync(socket);

        Assert.Contains("\"error\"", answer, StringComparison.Ordinal);
        Assert.Contains("servicestack-sse", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("data:", answer, StringComparison.Ordinal);
        Assert.Empty(await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout());
        // The public protocols still work on the same endpoint.
        await using var json = await cluster.ConnectAsync(0, "home");
        Assert.NotEmpty(json.Id);
    }

    [Fact]
    public async Task One_address_is_held_to_its_limit_across_hub_and_sse_and_others_are_not()
    {
        await using var cluster = await StartAsync(o => o.MaxConnectionsPerAddress = 3);
        const string crowd = "203.0.113.50";

        await using var sse1 = await SseTestClient.ConnectAsync(cluster[0].BaseUri, forwardedFor: crowd);
        await using var sse2 = await SseTestClient.ConnectAsync(cluster[0].BaseUri, forwardedFor: crowd);
        await using var hub3 = ForwardedHub(cluster.HubUrl(0, "channels=home"), crowd);
        await hub3.StartAsync().DefaultTimeout();

        var sse4 = await SseTestClient.OpenAsync(cluster[0].BaseUri, forwardedFor: crowd);
        Assert.Equal(HttpStatusCode.TooManyRequests, sse4.Response.StatusCode);
        Assert.Contains("at most 3 per address", await sse4.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await sse4.DisposeAsync();
        await using var hub4 = ForwardedHub(cluster.HubUrl(0, "channels=home"), crowd);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => hub4.StartAsync().DefaultTimeout());
        Assert.Contains("at most 3 per address", refused.Message, StringComparison.Ordinal);

        // Other addresses (loopback here) are not held by it.
        await using var other = await SseTestClient.ConnectAsync(cluster[0].BaseUri, forwardedFor: "203.0.113.51");
        await using var local = await cluster.ConnectAsync(0, "home");
        // A connection that ends frees its place.
        await sse1.DisposeAsync();
        await Eventually.TrueAsync(async () =>
        {
            var again = await SseTestClient.OpenAsync(cluster[0].BaseUri, forwardedFor: crowd);
            var ok = again.Response.StatusCode == HttpStatusCode.OK;
            await again.DisposeAsync();
            return ok;
        }, "the address did not get its place back");
    }

    [Fact]
    public async Task A_hub_connection_that_sends_nothing_after_its_handshake_is_closed_with_a_leave()
    {
        await using var cluster = await StartAsync(o => o.SilentConnectionTimeout = TimeSpan.FromSeconds(1));
        var watcher = await cluster.ConnectAsync(1, "home");

        using var silent = await RawHubSocketAsync(cluster.HubUrl(0, "channels=home"));
        await SendRecordAsync(silent, "{\"protocol\":\"json\",\"version\":1}");
        using var talking = await RawHubSocketAsync(cluster.HubUrl(0, "channels=home"));
        await SendRecordAsync(talking, "{\"protocol\":\"json\",\"version\":1}");
        using var stopPings = new CancellationTokenSource();
        var pings = Task.Run(async () =>
        {
            while (!stopPings.IsCancellationRequested)
            {
                await SendRecordAsync(talking, "{\"type\":6}");
                await Task.Delay(200);
            }
        });
        await Eventually.TrueAsync(async () => (await cluster.Api(1).GetAllSubscriptionInfosAsync()).Count == 3, "the raw connections did not subscribe");

        // Closed after about a second (the sweep runs every quarter of it), with a leave its channel sees.
        await watcher.WaitForAsync(e => e.Selector == "cmd.onLeave", TimeSpan.FromSeconds(10));
        await ReceiveAllAsync(silent).DefaultTimeout();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await cluster.Api(1).GetAllSubscriptionInfosAsync().DefaultTimeout()).Count);
        Assert.Equal(WebSocketState.Open, talking.State);
        await stopPings.CancelAsync();
        await pings;
    }

    private static HubConnection ForwardedHub(Uri hubUrl, string forwardedFor) =>
        new HubConnectionBuilder()
            .WithUrl(hubUrl, o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.Headers["X-Forwarded-For"] = forwardedFor;
            })
            .Build();

    private static async Task<ClientWebSocket> RawHubSocketAsync(Uri hubUrl)
    {
        var socket = new ClientWebSocket();
        var ws = new UriBuilder(hubUrl) { Scheme = hubUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        await socket.ConnectAsync(ws, CancellationToken.None).DefaultTimeout();
        return socket;
    }

    private static Task SendRecordAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + "\u001e"), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Everything the server sends until it closes the socket (bounded by the test timeout).</summary>
    private static async Task<string> ReceiveAllAsync(ClientWebSocket socket)
    {
        var text = new StringBuilder();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(Fixtures.TaskExtensions.Default);
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
            }
            catch (WebSocketException)
            {
                return text.ToString();
            }
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return text.ToString();
            }
            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}

using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Presence;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// <c>GET /event-stream</c>: checks the request, then runs the response as a SignalR connection of the
/// app's Server Events hub until either side ends it.
/// </summary>
internal sealed class SseStreamEndpoint(
    IServiceProvider services,
    ServerEventsBuilder serverEvents,
    SubscriptionFactory factory,
    ISubscriptionStore store,
    SseConnections connections,
    IOptions<ServerEventsOptions> serverEventsOptions,
    IOptions<SseBridgeOptions> bridgeOptions,
    ConnectionsPerAddress perAddress,
    RefusalLog refusals,
    ServerEventsMetrics metrics,
    UserIds userIds,
    TimeProvider time)
{
    // How long a closed stream's request may wait for the hub side and the pump to finish.
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    private readonly ServerEventsOptions _options = serverEventsOptions.Value;
    private readonly SseBridgeOptions _bridge = bridgeOptions.Value;
    private readonly ConnectionHandler _hub = (ConnectionHandler)services.GetRequiredService(typeof(HubConnectionHandler<>).MakeGenericType(serverEvents.HubType));

    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var response = http.Response;
        if (_options.LimitToAuthenticatedUsers && http.User.Identity?.IsAuthenticated != true)
        {
            metrics.Refused(RefusalLog.NotAuthenticated);
            await SubscriberEndpoints.TextAsync(response, StatusCodes.Status401Unauthorized, "Not authenticated: this server accepts subscriptions from authenticated users only.");
            return;
        }
        try
        {
            // Checked here, not only by the hub: a refusal inside the hub would be logged by SignalR as an error.
            factory.ChannelsFromQuery(request.Query);
            SubscriptionLifecycle.LastEventId(http);
        }
        catch (ArgumentException ex)
        {
            refusals.Refused(RefusalLog.ConnectInput, "an SSE stream", ex.Message);
            await SubscriberEndpoints.TextAsync(response, StatusCodes.Status400BadRequest, ex.Message);
            return;
        }
        if (await TooManyStreamsAsync(http) is { } limit)
        {
            metrics.Refused(RefusalLog.StreamsPerUser);
            await SubscriberEndpoints.TextAsync(response, StatusCodes.Status429TooManyRequests, limit);
            return;
        }
        var address = http.Connection.RemoteIpAddress;
        if (!perAddress.TryAcquire(address))
        {
            refusals.Refused(RefusalLog.ConnectionsPerAddress, "too many connections from one address", address?.ToString());
            await SubscriberEndpoints.TextAsync(response, StatusCodes.Status429TooManyRequests, $"Too many connections from {address}: at most {perAddress.Limit} per address.");
            return;
        }
        metrics.ConnectionOpened(ServerEventsMetrics.Sse);
        try
        {
            await StreamAsync(http);
        }
        finally
        {
            metrics.ConnectionClosed(ServerEventsMetrics.Sse);
            perAddress.Release(address);
        }
    }

    private async Task StreamAsync(HttpContext http)
    {
        var response = http.Response;

        var id = NewSubscriptionId();
        http.Items[SubscriptionFactory.TransportConnectArgsKey] = ConnectUrls(http, id);
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        await using var connection = new SseConnection(id, http, _bridge.MaxUnsentBytesPerStream, time, metrics);
        connections.Add(connection);
        try
        {
            using var clientGone = http.RequestAborted.Register(() => connection.Close("the client disconnected"));
            await connection.StartAsync();
            var pump = SseStreamPump.RunAsync(connection, response, _bridge.KeepAliveInterval, http.RequestAborted);
            var hub = _hub.OnConnectedAsync(connection);
            await Task.WhenAny(hub, pump);
            if (!hub.IsCompleted)
            {
                // The stream ended first (client gone, write failed): end the hub side too, but never let a
                // lingering disconnect hold this request (and a server shutdown) open.
                connection.Close("the stream ended");
                await Task.WhenAny(hub, Task.Delay(CloseGrace, CancellationToken.None));
            }
            connection.MarkHubDone();
            // The pump ends by itself once the hub side is done; a failed write to a vanished client is not an error here.
            await ((Task)pump).WaitAsync(CloseGrace, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var refusal = pump.IsCompletedSuccessfully ? pump.Result : null;
            if (refusal is not null && !response.HasStarted)
            {
                await SubscriberEndpoints.TextAsync(response, StatusCodes.Status403Forbidden, refusal);
            }
        }
        finally
        {
            connections.Remove(connection);
        }
    }

    private async Task<string?> TooManyStreamsAsync(HttpContext http)
    {
        if (_bridge.MaxStreamsPerUser is not { } max)
        {
            return null;
        }
        var user = userIds.Of(http);
        var session = user is null ? _options.SessionIdOf(http) : null;
        if (user is null && session is null)
        {
            return null;
        }
        var existing = user is not null
            ? await store.FindAsync(SubscriptionIndex.UserId, user, http.RequestAborted)
            : await store.FindAsync(SubscriptionIndex.Session, session!, http.RequestAborted);
        return existing.Count >= max
            ? $"Too many streams: {(user is not null ? "this user" : "this session")} already has {existing.Count} (at most {max})."
            : null;
    }

    private Dictionary<string, string> ConnectUrls(HttpContext http, string id)
    {
        var request = http.Request;
        // Where the endpoints are mapped, from the stream's own URL: a path base, and a route group
        // (app.MapGroup("/sse").MapServerEventsSse()) whose prefix is in the path before the stream's own path.
        var path = (request.Path.Value ?? "").TrimEnd('/');
        var streamPath = _bridge.StreamPath!;
        var group = path.EndsWith(streamPath, StringComparison.OrdinalIgnoreCase) ? path[..^streamPath.Length] : "";
        var root = $"{request.Scheme}://{request.Host}{request.PathBase}{group}";
        var session = "";
        // A session given in the stream's query travels on in the heartbeat URL, as ServiceStack does.
        if (_options.AllowSessionIdsInHttpParams && request.Query["ss-id"].ToString() is { Length: > 0 } sid)
        {
            session = "&ss-id=" + Uri.EscapeDataString(sid);
        }
        // An endpoint turned off (path null) is not advertised.
        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        if (SseBridgeOptions.IsOn(_bridge.HeartbeatPath))
        {
            urls["heartbeatUrl"] = $"{root}{_bridge.HeartbeatPath}?id={id}{session}";
        }
        if (SseBridgeOptions.IsOn(_bridge.UnRegisterPath))
        {
            urls["unRegisterUrl"] = $"{root}{_bridge.UnRegisterPath}?id={id}{session}";
        }
        if (SseBridgeOptions.IsOn(_bridge.SubscribersPath))
        {
            urls["updateSubscriberUrl"] = $"{root}{_bridge.SubscribersPath}/{id}";
        }
        return urls;
    }

    // 20 URL-safe characters, like ServiceStack's subscription ids.
    private static string NewSubscriptionId() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', '-').Replace('/', '_');
}

// The app server the load driver starts (one process per server): the hub at /hub, the SSE bridge, and two
// endpoints for the driver — a server-side publisher (so HTTP costs nothing per message) and process stats.
// Arguments: --port=N (0 = any), --redis=<connection string>, --prefix=<key prefix>, --history=N (events kept per target; 0 = none),
// --peer=microsoft (no Server Events: a plain hub at /peer on SignalR's own manager, or Microsoft's Redis backplane with --redis).
// A `user` query parameter on /hub or /event-stream signs the connection in as that user id (bench only).
// SERVEREVENTS_BENCH_METRICS=1 listens to every ServerEvents instrument (what an exporter costs).
using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ServerEvents;
using ServerEvents.BenchHost;
using Microsoft.AspNetCore.SignalR;

// Content root = the host's own folder: whatever appsettings.json the caller's working directory holds is not ours.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var config = builder.Configuration;
builder.WebHost.UseUrls($"http://127.0.0.1:{config["port"] ?? "0"}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var peer = config["peer"] == "microsoft";
if (peer)
{
    AddPeer(builder.Services, config);
}
else
{
    AddServerEvents(builder.Services, config);
}

var app = builder.Build();
using var metrics = MetricsSink.FromEnvironment();
app.Use((http, next) =>
{
    if (http.Request.Query["user"] is [{ Length: > 0 } user])
    {
        http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user)], "bench"));
    }
    return next(http);
});
app.UseWebSockets();
if (peer)
{
    app.MapHub<PeerHub>("/peer");
    app.MapPost("/bench/publish", (PublishRequest request, IHubContext<PeerHub> hub) => Publisher.RunAsync(request, PeerHub.Sender(hub, request)));
}
else
{
    app.MapServerEvents("/hub");
    app.MapServerEventsSse();
    app.MapHub<PlainHub>("/plain"); // the load driver's reference: what a bare SignalR hub connection costs
    app.MapPost("/bench/publish", (PublishRequest request, IServerEvents events) => Publisher.RunAsync(request, events));
}
app.MapGet("/bench/stats", (bool? memory) =>
{
    using var process = Process.GetCurrentProcess();
    var cpuMs = process.TotalProcessorTime.TotalMilliseconds;
    var allocatedBytes = GC.GetTotalAllocatedBytes(precise: false);
    // The JIT's share, so the driver can warm up until tiering has settled and show what is left of it.
    var jitMs = System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds;
    var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
    // Work items run by the thread pool: each is a hop between threads, and often a wake-up.
    var workItems = ThreadPool.CompletedWorkItemCount;
    if (memory != true)
    {
        return new { cpuMs, allocatedBytes, workingSetBytes = 0L, gcHeapBytes = 0L, jitMs, jitMethods, workItems };
    }
    // Live managed bytes need full collections; they run only for memory readings, outside CPU windows.
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var gcHeapBytes = GC.GetTotalMemory(forceFullCollection: true);
    process.Refresh();
    return new { cpuMs, allocatedBytes, workingSetBytes = process.WorkingSet64, gcHeapBytes, jitMs, jitMethods, workItems };
});
await app.StartAsync();
Console.WriteLine($"bench host listening on {app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()}");
await app.WaitForShutdownAsync();


static void AddServerEvents(IServiceCollection services, IConfiguration config)
{
    var serverEvents = services.AddServerEvents(o =>
    {
        // Join/leave broadcasts cost O(subscribers²) while thousands connect; a benchmark of delivery turns them off.
        o.NotifyChannelOfSubscriptions = false;
        // SSE subscribers of the driver send no heartbeats: what is measured is delivery, not heartbeat POSTs.
        o.IdleTimeout = TimeSpan.FromMinutes(10);
        // Its hub subscribers start pinging once all of them are connected, which takes longer than 30 s at 10,000.
        o.SilentConnectionTimeout = TimeSpan.FromMinutes(10);
        // All its subscribers come from one address (the driver's).
        o.MaxConnectionsPerAddress = null;
        if (config["history"] is { } history)
        {
            o.HistoryPerTarget = int.Parse(history, System.Globalization.CultureInfo.InvariantCulture);
        }
    }).AddSseBridge(b => b.MaxStreamsPerUser = null);
    if (config["redis"] is { } redis)
    {
        serverEvents.AddRedis(redis, o => o.Prefix = config["prefix"] ?? "bench");
    }
}

// What a team would run instead: plain SignalR, scaled out by Microsoft's own Redis backplane.
static void AddPeer(IServiceCollection services, IConfiguration config)
{
    var signalR = services.AddSignalR();
    if (config["redis"] is { } redis)
    {
        signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = StackExchange.Redis.RedisChannel.Literal(config["prefix"] ?? "bench"));
    }
}

/// <summary>A hub with no Server Events on it, on SignalR's own lifetime manager.</summary>
internal sealed class PlainHub : Microsoft.AspNetCore.SignalR.Hub;

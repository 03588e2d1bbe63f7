// The app server the load driver starts (one process per server): the hub at /hub, the SSE bridge, and two
// endpoints for the driver — a server-side publisher (so HTTP costs nothing per message) and process stats.
// Arguments: --port=N (0 = any), --redis=<connection string>, --prefix=<key prefix>.
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ServerEvents;
using ServerEvents.Redis;
using ServerEvents.Sse;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;
builder.WebHost.UseUrls($"http://127.0.0.1:{config["port"] ?? "0"}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// Join/leave broadcasts cost O(subscribers²) while thousands connect; a benchmark of delivery turns them off.
var serverEvents = builder.Services.AddServerEvents(o => o.NotifyChannelOfSubscriptions = false)
    .AddSseBridge(b => b.MaxStreamsPerUser = null);
if (config["redis"] is { } redis)
{
    serverEvents.AddRedis(redis, o => o.Prefix = config["prefix"] ?? "bench");
}

var app = builder.Build();
app.UseWebSockets();
app.MapServerEvents("/hub");
app.MapServerEventsSse();
app.MapPost("/bench/publish", async (PublishRequest request, IServerEvents events) =>
{
    var pad = new string('x', Math.Max(0, request.PayloadBytes));
    using var window = new SemaphoreSlim(Math.Max(1, request.Window));
    var clock = Stopwatch.StartNew();
    var sends = new List<Task>(request.Count);
    for (var seq = 1; seq <= request.Count; seq++)
    {
        if (request.Rate > 0 && TimeSpan.FromSeconds((seq - 1) / request.Rate) - clock.Elapsed is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait);
        }
        await window.WaitAsync();
        sends.Add(SendAsync($"{{\"seq\":{seq},\"ts\":{DateTime.UtcNow.Ticks},\"pad\":\"{pad}\"}}"));
    }
    await Task.WhenAll(sends);
    return new { sent = request.Count, elapsedMs = clock.Elapsed.TotalMilliseconds };

    async Task SendAsync(string json)
    {
        try
        {
            await events.NotifyChannelJsonAsync(request.Channel, "cmd.bench", json);
        }
        finally
        {
            window.Release();
        }
    }
});
app.MapGet("/bench/stats", () =>
{
    using var process = Process.GetCurrentProcess();
    GC.Collect();
    return new { cpuMs = process.TotalProcessorTime.TotalMilliseconds, workingSetBytes = process.WorkingSet64, gcHeapBytes = GC.GetTotalMemory(forceFullCollection: true) };
});
await app.StartAsync();
Console.WriteLine($"bench host listening on {app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()}");
await app.WaitForShutdownAsync();

internal sealed record PublishRequest(string Channel, int Count, double Rate, int Window, int PayloadBytes);

// ServiceStack's Chat, rebuilt on ServerEvents + SignalR. One instance runs on the memory back-end;
// --redis makes any number of instances share channels, users and history through one redis-server or a Redis Cluster
// (--redis 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002).
using System.Net.Sockets;
using ChatHub;
using Microsoft.AspNetCore.Connections;
using ServerEvents;
using ServerEvents.Redis;
using OpenTelemetry.Metrics;
using StackExchange.Redis;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory, WebRootPath = "wwwroot" });
builder.Configuration.AddEnvironmentVariables("CHATHUB_");
ChatSettings settings;
try
{
    settings = ChatSettings.Read(args, builder.Configuration);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"chathub: {ex.Message}");
    return 2;
}

builder.WebHost.UseUrls($"http://127.0.0.1:{settings.Port}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// Start-up failures get one clear line below, not the host's stack trace.
builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
// As ServiceStack's Chat: the page's links may carry ?ss-id= (AllowSessionIdsInHttpParams).
var serverEvents = builder.Services.AddServerEvents<ChatServerEventsHub>(o => o.AllowSessionIdsInHttpParams = true).AddSseBridge();
builder.Services.AddSingleton(settings);
// GET /health and /health/ready: Healthy, or Degraded while Redis is unreachable (messages are buffered, clients stay
// connected), Unhealthy (503) once the buffer is full. /health/live runs no check: the process answers.
builder.Services.AddHealthChecks().AddServerEvents(tags: ["ready"]);
// GET /metrics: Prometheus text of the ServerEvents meter and of ASP.NET Core's own (requests, Kestrel, SignalR's connections).
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter(ServerEventsMeter.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections")
    .AddPrometheusExporter());
builder.Services.AddSingleton<ChatStatus>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ChatStatus>());
if (settings.Redis is { } redis)
{
    ConfigurationOptions redisOptions;
    try
    {
        // The library's own reading of Redis settings: StackExchange.Redis's format or a redis:// URL.
        redisOptions = RedisBackplaneOptions.ParseConfiguration(redis);
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine($"chathub: --redis: {ex.Message}");
        return 2;
    }
    // Completions on the .NET thread pool, as Server Events sets for the multiplexers it creates (a second pool of ten
    // dedicated threads to wake per reply was a fifth of this server's CPU per chat message).
    redisOptions.SocketManager = SocketManager.ThreadPool;
    // One multiplexer for the app (its chat history) and Server Events, connected before the app starts.
    var multiplexer = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(redisOptions));
    builder.Services.AddSingleton<IConnectionMultiplexer>(_ => multiplexer.Value.GetAwaiter().GetResult());
    serverEvents.AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), o => o.Prefix = "se:chat");
    builder.Services.AddSingleton<IChatHistory>(sp => new RedisChatHistory(sp.GetRequiredService<IConnectionMultiplexer>()));
}
else
{
    builder.Services.AddSingleton<IChatHistory, MemoryChatHistory>();
}

var app = builder.Build();
app.UseChatErrors();
app.UseWebSockets();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapServerEvents("/hub");
app.MapServerEventsSse();
app.MapChatRoutes();
app.MapHealthChecks("/health");
app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") });
app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
app.MapPrometheusScrapingEndpoint("/metrics");
// GET /status (the page, also at /status.html) and /status.json, what it draws: this instance, and on Redis every live one.
app.MapGet("/status", (IWebHostEnvironment env) => Results.File(env.WebRootFileProvider.GetFileInfo("status.html").CreateReadStream(), "text/html; charset=utf-8"));
app.MapGet("/status.json", async (ChatStatus status) => Results.Text((await status.ReadAsync()).ToJsonString(), "application/json"));
app.MapGet("/chat-settings", (ChatSettings s) => new { background = s.Background, backend = s.Redis is null ? "memory" : "redis" });

try
{
    // Resolved here so that an unreachable Redis fails the start with one clear line.
    app.Services.GetService<IConnectionMultiplexer>();
    await app.StartAsync();
}
catch (Exception ex) when (ex is IOException or SocketException or AddressInUseException && ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"chathub: port {settings.Port} is already in use; choose another with --port.");
    return 3;
}
catch (Exception ex) when (ex is RedisUnreachableException or RedisConnectionException)
{
    Console.Error.WriteLine($"chathub: cannot reach Redis: {ex.Message}");
    return 4;
}

Console.WriteLine($"ChatHub on http://127.0.0.1:{settings.Port}/ ({(settings.Redis is null ? "memory back-end" : $"Redis at {settings.Redis}")}) — Ctrl+C to stop");
await app.WaitForShutdownAsync();
return 0;

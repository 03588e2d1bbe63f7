// ServiceStack's Chat, rebuilt on ServerEvents + SignalR. One instance runs on the memory back-end;
// --redis makes any number of instances share channels, users and history through one redis-server.
using System.Net.Sockets;
using ChatHub;
using Microsoft.AspNetCore.Connections;
using ServerEvents;
using ServerEvents.Redis;
using ServerEvents.Resp;
using ServerEvents.Sse;

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
var serverEvents = builder.Services.AddServerEvents<ChatServerEventsHub>().AddSseBridge();
builder.Services.AddSingleton(settings);
// GET /health: Healthy, or Degraded while Redis is unreachable (messages are buffered, clients stay connected).
builder.Services.AddHealthChecks().AddServerEvents();
if (settings.Redis is { } redis)
{
    RedisConnectionOptions redisOptions;
    try
    {
        redisOptions = RedisConnectionOptions.Parse(redis);
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine($"chathub: --redis: {ex.Message}");
        return 2;
    }
    serverEvents.AddRedis(redis, o => o.Prefix = "se:chat");
    builder.Services.AddSingleton(sp => new RedisConnection(redisOptions, sp.GetRequiredService<ILogger<RedisConnection>>()));
    builder.Services.AddSingleton<IChatHistory>(sp => new RedisChatHistory(sp.GetRequiredService<RedisConnection>()));
}
else
{
    builder.Services.AddSingleton<IChatHistory, MemoryChatHistory>();
}

var app = builder.Build();
app.UseWebSockets();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapHub<ChatServerEventsHub>("/hub");
app.MapServerEventsSse();
app.MapChatRoutes();
app.MapHealthChecks("/health");
app.MapGet("/chat-settings", (ChatSettings s) => new { background = s.Background, backend = s.Redis is null ? "memory" : "redis" });

try
{
    if (app.Services.GetService<RedisConnection>() is { } history)
    {
        await history.ConnectAsync();
    }
    await app.StartAsync();
}
catch (Exception ex) when (ex is IOException or SocketException or AddressInUseException && ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"chathub: port {settings.Port} is already in use; choose another with --port.");
    return 3;
}
catch (RedisConnectionException ex)
{
    Console.Error.WriteLine($"chathub: cannot reach Redis: {ex.Message}");
    return 4;
}

Console.WriteLine($"ChatHub on http://127.0.0.1:{settings.Port}/ ({(settings.Redis is null ? "memory back-end" : $"Redis at {settings.Redis}")}) — Ctrl+C to stop");
await app.WaitForShutdownAsync();
return 0;

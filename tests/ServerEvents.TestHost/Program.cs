// A minimal Server Events app server that tests run as a child process, so that a test can kill a
// whole server abruptly (SIGKILL: no shutdown hooks, no cleanup) and watch the survivors react.
//
// Arguments (all optional): --redis=<connection string> (memory back-end without it), --prefix=<key prefix>,
// --housekeeping=<TimeSpan>, --idle=<TimeSpan>. Prints "listening on <url>" once it accepts connections.
using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ServerEvents;
using ServerEvents.Redis;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var serverEvents = builder.Services.AddServerEvents(o =>
{
    if (config["housekeeping"] is { } housekeeping)
    {
        o.HouseKeepingInterval = TimeSpan.Parse(housekeeping, CultureInfo.InvariantCulture);
    }
    if (config["idle"] is { } idle)
    {
        o.IdleTimeout = TimeSpan.Parse(idle, CultureInfo.InvariantCulture);
        // Clients must be asked to beat well inside the idle timeout (checked at start-up).
        o.HeartbeatInterval = o.IdleTimeout / 3;
    }
});
if (config["redis"] is { } redis)
{
    serverEvents.AddRedis(redis, o => o.Prefix = config["prefix"]);
}

var app = builder.Build();
app.UseWebSockets();
app.MapServerEvents("/hub");
await app.StartAsync();

var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
Console.WriteLine($"listening on {address}");
await app.WaitForShutdownAsync();

using ServerEvents;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddServerEvents(o => o.Events.AuthorizeChannel = c =>   // who may join or list a channel (null: list everyone)
    Task.FromResult(c.Channel is not ("admin" or null) || c.User.Identity?.IsAuthenticated == true));
var app = builder.Build();
app.UseWebSockets();
app.MapServerEvents("/hub");                        // clients connect to /hub?channels=home,news
app.MapPost("/say/{channel}", (string channel, string text, IServerEvents events) =>
    events.NotifyChannelAsync(channel, "cmd.chat", new { text }));   // → home@cmd.chat {"text":"…"}
app.Run();

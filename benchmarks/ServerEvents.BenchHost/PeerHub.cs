using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.BenchHost;

/// <summary>
/// The peer a team would write without Server Events: a plain SignalR hub whose connections join the groups named in
/// <c>?channels=</c>, scaled out by Microsoft's Redis backplane (<c>AddStackExchangeRedis</c>) when given Redis.
/// </summary>
internal sealed class PeerHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        var channels = Context.GetHttpContext()?.Request.Query["channels"].ToString() ?? "";
        foreach (var channel in channels.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, channel);
        }
    }

    /// <summary>What the benchmark publisher sends: the same envelope as Server Events, through groups or users.</summary>
    public static Func<string, string, Task> Sender(IHubContext<PeerHub> hub, PublishRequest request) => (target, json) =>
    {
        var message = new ServerEvent(0, request.Kind == "user" ? null : target, request.Selector, json);
        return request.Kind == "user"
            ? hub.Clients.User(target).SendAsync(ServerEventsHubBase.ClientMethod, message)
            : hub.Clients.Group(target).SendAsync(ServerEventsHubBase.ClientMethod, message);
    };
}

using ServerEvents;

namespace ChatHub;

/// <summary>
/// The chat's hub: an app hub derived from <see cref="ServerEventsHubBase"/>, so it has the Server Events
/// API (channels, presence, the single <c>event</c> client method) and could add chat-specific methods.
/// </summary>
public sealed class ChatServerEventsHub : ServerEventsHubBase
{
}

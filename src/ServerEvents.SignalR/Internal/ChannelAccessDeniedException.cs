namespace ServerEvents.Internal;

/// <summary>Thrown when the app's <see cref="SubscriptionEvents.AuthorizeChannel"/> refuses a channel a client asked to join or list.</summary>
internal sealed class ChannelAccessDeniedException(string? channel, ChannelAccess access)
    : UnauthorizedAccessException(access == ChannelAccess.Join
        ? $"Not allowed to join channel '{channel}'."
        : channel is null ? "Not allowed to list the subscribers of every channel." : $"Not allowed to list the subscribers of channel '{channel}'.");

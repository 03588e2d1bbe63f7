namespace ServerEvents;

/// <summary>Thrown when <see cref="ServerEventsOptions.AuthorizeChannel"/> refuses a channel a client asked to join.</summary>
public sealed class ChannelAccessDeniedException : UnauthorizedAccessException
{
    /// <summary>Creates the exception for <paramref name="channel"/>.</summary>
    /// <param name="channel">The refused channel.</param>
    public ChannelAccessDeniedException(string channel)
        : base($"Not allowed to join channel '{channel}'.")
    {
        Channel = channel;
    }

    /// <summary>The refused channel.</summary>
    public string Channel { get; }
}

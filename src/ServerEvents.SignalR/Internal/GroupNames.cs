namespace ServerEvents.Internal;

/// <summary>
/// One naming scheme for the SignalR groups a subscription is in. A channel's group is the channel name
/// itself, so <c>IHubContext.Clients.Group(channel)</c> reaches the channel's members. The other groups
/// start with <c>@</c>, which channel names may not contain, so the two kinds can never collide.
/// </summary>
internal static class GroupNames
{
    /// <summary>
    /// Every subscription's group, joined with its others: notify-all goes to it (not to SignalR's all-connections),
    /// so a notify-all reaches a subscription only from its join on — after its <c>cmd.onConnect</c>, and inside the
    /// same hold or lock as a resuming subscription's replay. Also the history target of notify-all.
    /// </summary>
    public const string All = "@all";

    public static string UserId(string userId) => "@uid:" + userId;

    public static string UserName(string userName) => "@uname:" + userName;

    public static string Session(string sessionId) => "@sid:" + sessionId;

    /// <summary>The non-channel groups a subscription belongs to for its whole life.</summary>
    public static IEnumerable<string> IdentityGroups(SubscriptionInfo info)
    {
        yield return UserId(info.UserId);
        if (info.UserName is { } userName)
        {
            yield return UserName(userName);
        }
        if (info.SessionId is { } sessionId)
        {
            yield return Session(sessionId);
        }
    }
}

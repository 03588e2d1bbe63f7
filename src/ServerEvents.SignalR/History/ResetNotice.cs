using System.Globalization;
using System.Text.Json;
using ServerEvents.Internal;

namespace ServerEvents.History;

/// <summary>
/// The explicit "you may have missed events" event: <c>cmd.onReset</c> with <c>{"lastEventId": "…", "reason": "…"}</c>.
/// Its own id closes the gap: events after <c>lastEventId</c> up to the reset's id may be missing; every later one
/// follows, in order, as usual. It takes the place, in id order, of what cannot be replayed.
/// </summary>
internal static class ResetNotice
{
    public const string Selector = "cmd.onReset";

    public const string TooOld = "The events after lastEventId are no longer kept: reload the state.";

    public const string CutOff = "Events published while this server was cut off from Redis are no longer kept: reload the state.";

    /// <summary>The reset for a client last seen at <paramref name="lastEventId"/> that cannot be told what it missed up to <paramref name="through"/>.</summary>
    public static ServerEvent Create(long lastEventId, long through, string reason) =>
        new(through, null, Selector, JsonSerializer.Serialize(
            new Dictionary<string, string>
            {
                ["lastEventId"] = lastEventId.ToString(CultureInfo.InvariantCulture),
                ["reason"] = reason,
            },
            ServerEventsJson.Default.DictionaryStringString));
}

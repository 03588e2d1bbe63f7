using System.Text.RegularExpressions;

namespace ServerEvents;

/// <summary>
/// What a channel name may look like. Always refused: empty or whitespace-only names, and names
/// containing <c>@</c> (the SSE channel separator), <c>,</c> (the list separator), whitespace or control
/// characters (which could inject SSE frames).
/// </summary>
public sealed class ChannelNameRules
{
    /// <summary>Longest channel name accepted, in characters.</summary>
    public int MaxLength { get; set; } = 100;

    /// <summary>An optional extra pattern every channel name must match in full (for example <c>^[a-z0-9_-]+$</c>).</summary>
    public Regex? Pattern { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> with the reason when <paramref name="channel"/> breaks a rule.</summary>
    /// <param name="channel">The channel name to check.</param>
    /// <param name="paramName">Argument name reported in the exception.</param>
    public void Validate(string? channel, string paramName = "channel")
    {
        if (string.IsNullOrWhiteSpace(channel))
        {
            throw new ArgumentException("Channel name must not be empty.", paramName);
        }
        if (channel.Length > MaxLength)
        {
            throw new ArgumentException($"Channel name is {channel.Length} characters long; the limit is {MaxLength}.", paramName);
        }
        foreach (var c in channel)
        {
            if (c is '@' or ',' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new ArgumentException($"Channel name '{Printable(channel)}' contains the forbidden character {Describe(c)}.", paramName);
            }
        }
        if (Pattern is not null && !Pattern.IsMatch(channel))
        {
            throw new ArgumentException($"Channel name '{channel}' does not match the pattern '{Pattern}'.", paramName);
        }
    }

    internal static string Describe(char c) => c switch
    {
        '@' => "'@'",
        ',' => "','",
        _ => $"U+{(int)c:X4}",
    };

    // Error messages must not themselves carry line breaks into logs or frames.
    internal static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) ? '?' : c));
}

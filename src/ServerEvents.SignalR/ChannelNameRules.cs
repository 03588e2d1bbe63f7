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

    // Checked against every name a client sends: a hostile name must not buy unbounded regex work.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
    private string? _pattern;
    private Regex? _regex;

    /// <summary>
    /// An optional extra rule: a .NET regular expression every channel name must match in full (for example
    /// <c>[a-z0-9_-]+</c>). A string, so that it binds from configuration; it is checked at start-up, and a match that
    /// takes more than 100 ms counts as no match.
    /// </summary>
    public string? Pattern
    {
        get => _pattern;
        set
        {
            _pattern = value;
            _regex = null;
        }
    }

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
        if (Pattern is not null && !Matches(channel))
        {
            throw new ArgumentException($"Channel name '{channel}' does not match the pattern '{Pattern}'.", paramName);
        }
    }

    /// <summary>
    /// Validates the channels one call names and returns each once, in order; more than <paramref name="max"/> distinct
    /// names are refused before any work is done for them.
    /// </summary>
    internal List<string> ValidateList(IEnumerable<string> channels, int max, string paramName = "channels")
    {
        ArgumentNullException.ThrowIfNull(channels, paramName);
        var list = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            Validate(channel, paramName);
            if (seen.Add(channel))
            {
                if (list.Count == max)
                {
                    throw new ArgumentException($"At most {max} distinct channels may be named in one call.", paramName);
                }
                list.Add(channel);
            }
        }
        return list;
    }

    private bool Matches(string channel)
    {
        try
        {
            return PatternRegex()!.IsMatch(channel);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>The compiled <see cref="Pattern"/>, anchored at both ends; throws <see cref="ArgumentException"/> for an invalid one.</summary>
    internal Regex? PatternRegex() =>
        _pattern is null ? null : _regex ??= new Regex($"^(?:{_pattern})$", RegexOptions.CultureInvariant, MatchTimeout);

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

using System.Globalization;

namespace ChatHub;

/// <summary>
/// The sample's settings, from (lowest to highest) appsettings.json, <c>CHATHUB_*</c> environment
/// variables and the command line — in Chat.exe's two forms, <c>--port 1337</c> and <c>/port=1337</c>.
/// </summary>
public sealed record ChatSettings(int Port, string? Redis, string? Background, string? AdminKey = null)
{
    private static readonly string[] Known = ["port", "redis", "background", "admin-key"];

    /// <summary>Reads the settings; throws <see cref="ArgumentException"/> with a one-line reason for bad input.</summary>
    public static ChatSettings Read(string[] args, IConfiguration configuration)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in Known)
        {
            values[key] = configuration[key];
        }
        foreach (var (key, value) in ParseArguments(args))
        {
            values[key] = value;
        }

        var portText = values["port"] ?? "1337";
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"--port must be a number from 1 to 65535, not '{portText}'.");
        }
        return new ChatSettings(port, Blank(values["redis"]), Blank(values["background"]), Blank(values["admin-key"]));
    }

    private static IEnumerable<(string Key, string Value)> ParseArguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string name, value;
            if (arg.StartsWith('/') && arg.Contains('=', StringComparison.Ordinal))
            {
                (name, value) = Split(arg[1..]);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (arg.Contains('=', StringComparison.Ordinal))
                {
                    (name, value) = Split(arg[2..]);
                }
                else
                {
                    name = arg[2..];
                    value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
                }
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}'. Use --port 1337 --redis localhost --background /img/bg.jpg --admin-key <secret> (or /port=1337 …).");
            }
            if (!Known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"Unknown option '{name}'. Known options: {string.Join(", ", Known)}.");
            }
            yield return (name, value);
        }
    }

    private static (string, string) Split(string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        return (text[..at], text[(at + 1)..]);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

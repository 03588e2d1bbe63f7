using Microsoft.Extensions.Logging;

namespace ServerEvents.Internal;

/// <summary>
/// Logs refused client input at Information, without stack traces, each value cut to <see cref="MaxValueLength"/>
/// characters, and at most <see cref="PerWindow"/> lines per <see cref="Window"/>; what is left out is counted in one
/// line when the next window opens. A client sending garbage cannot flood the log. Every refusal is counted
/// (<c>serverevents.refusals</c>, tagged with the rule), logged or not.
/// </summary>
internal sealed partial class RefusalLog(ILogger<RefusalLog> logger, TimeProvider time, ServerEventsMetrics metrics)
{
    // The rules, as serverevents.refusals tags them: stable identifiers for alerts, apart from the log's wording.
    public const string ConnectionsPerAddress = "connections_per_address";
    public const string InternalProtocol = "internal_protocol";
    public const string ConnectInput = "connect_input";
    public const string SilentConnection = "silent_connection";
    public const string SubscriberListRate = "subscriber_list_rate";
    public const string StreamsPerUser = "streams_per_user";
    public const string NotAuthenticated = "not_authenticated";
    public const string ChannelDenied = "channel_denied";
    public const string RefusedByApp = "refused_by_app";

    public const int MaxValueLength = 64;
    public const int PerWindow = 20;
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private long _windowStart = long.MinValue;
    private int _logged;
    private int _suppressed;

    /// <summary>Notes one refusal: <paramref name="rule"/> is one of the constants above, <paramref name="what"/> says what
    /// was refused in the log's words, <paramref name="value"/> what the client sent.</summary>
    public void Refused(string rule, string what, string? value)
    {
        metrics.Refused(rule);
        int suppressedBefore;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            suppressedBefore = 0;
            if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= Window)
            {
                suppressedBefore = _suppressed;
                _windowStart = now;
                _logged = 0;
                _suppressed = 0;
            }
            if (_logged == PerWindow)
            {
                _suppressed++;
                return;
            }
            _logged++;
        }
        if (suppressedBefore > 0)
        {
            Suppressed(logger, suppressedBefore, Window.TotalSeconds);
        }
        Refusal(logger, what, Truncate(value));
    }

    /// <summary>A client-supplied value fit for one short log line: cut, with control characters escaped.</summary>
    public static string Truncate(string? value)
    {
        if (value is null)
        {
            return "(none)";
        }
        var cut = value.Length > MaxValueLength ? value[..MaxValueLength] : value;
        var printable = ChannelNameRules.Printable(cut);
        return value.Length > MaxValueLength ? $"{printable}… ({value.Length} characters)" : printable;
    }

    [LoggerMessage(20, LogLevel.Information, "Refused {What}: {Value}")]
    private static partial void Refusal(ILogger logger, string what, string value);

    [LoggerMessage(21, LogLevel.Information, "{Count} more refusals in the last {Seconds} s were not logged.")]
    private static partial void Suppressed(ILogger logger, int count, double seconds);
}

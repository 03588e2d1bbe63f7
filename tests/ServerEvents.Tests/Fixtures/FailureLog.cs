using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Tests.Fixtures;

/// <summary>
/// Keeps warnings and errors logged by test servers, printed when a test wants to explain a failure. Every test's servers
/// log here, so each entry carries its time (UTC) and its server's address: a failure's own servers can be told apart.
/// </summary>
public static class FailureLog
{
    private static readonly ConcurrentQueue<string> Entries = new();

    public static IReadOnlyCollection<string> Snapshot => [.. Entries];

    /// <summary>The last <paramref name="count"/> entries, and the time now, for a failure message.</summary>
    public static string Recent(int count = 10) =>
        $"(now {DateTime.UtcNow:HH:mm:ss.fff}) " + string.Join(" | ", Snapshot.TakeLast(count));

    public sealed class Provider : ILoggerProvider
    {
        /// <summary>The server's address once it is known (set after start).</summary>
        public string Server { get; set; } = "(starting)";

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(Provider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Entries.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {provider.Server} {logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}

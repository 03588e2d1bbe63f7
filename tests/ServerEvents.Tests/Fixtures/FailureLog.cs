using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Tests.Fixtures;

/// <summary>Keeps warnings and errors logged by test servers, printed when a test wants to explain a failure.</summary>
public static class FailureLog
{
    private static readonly ConcurrentQueue<string> Entries = new();

    public static IReadOnlyCollection<string> Snapshot => [.. Entries];

    public sealed class Provider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}

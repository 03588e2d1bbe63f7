using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerEvents.Sse;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Sse;

/// <summary>Refused input must not flood the log: short lines, no stack traces, no errors, a bounded number per window.</summary>
public sealed class RefusalLogTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Refused_connects_are_logged_briefly_a_bounded_number_of_times_and_never_as_errors()
    {
        var log = new CapturingLoggerProvider();
        await using var cluster = await TestCluster.StartAsync(1,
            services =>
            {
                services.AddServerEvents().AddSseBridge();
                services.AddSingleton<ILoggerProvider>(log);
                // The test servers log warnings and up; this provider sees Information too.
                services.AddLogging(b => b.AddFilter<CapturingLoggerProvider>(null, LogLevel.Information));
            },
            app =>
            {
                app.MapServerEvents("/hub");
                app.MapServerEventsSse();
            });
        var longId = new string('9', 3000) + "x";

        for (var i = 0; i < 30; i++)
        {
            Assert.Contains("lastEventId must be an event id", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, $"channels=home&lastEventId={longId}")));
            Assert.Contains("'@'", await TestClient.ConnectRefusedAsync(cluster.HubUrl(0, "channels=a@b")));
            var sse = await SseTestClient.OpenAsync(cluster[0].BaseUri, $"channels=home&lastEventId={longId}");
            Assert.Equal(HttpStatusCode.BadRequest, sse.Response.StatusCode);
            await sse.DisposeAsync();
        }

        var entries = log.Entries.ToList();
        output.WriteLine(string.Join("\n", entries.Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Error);
        var refusals = entries.Where(e => e.Category.EndsWith("RefusalLog", StringComparison.Ordinal)).ToList();
        // 90 refusals in well under the 10 s window: 20 logged, the rest counted later.
        Assert.InRange(refusals.Count, 20, 22);
        Assert.All(refusals, e =>
        {
            Assert.Equal(LogLevel.Information, e.Level);
            Assert.Null(e.Exception);
            Assert.True(e.Message.Length < 300, e.Message);
        });
    }

    private sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
                }
            }
        }
    }
}

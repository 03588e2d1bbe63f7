using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Redis.Internal;

/// <summary>Says at start-up that optional Redis settings were missing, so the memory back-end is not a silent surprise.</summary>
internal sealed partial class MemoryBackendWarning(ILogger<MemoryBackendWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        NoRedis(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message =
        "Server Events runs on the memory back-end: the configuration sets neither 'ServerEvents:Redis' nor 'ConnectionStrings:Redis'. " +
        "This server shares no subscriptions or events with any other.")]
    private static partial void NoRedis(ILogger logger);
}

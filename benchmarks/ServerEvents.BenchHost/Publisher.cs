using System.Diagnostics;
using System.Globalization;

namespace ServerEvents.BenchHost;

/// <summary>
/// What the driver asks the publisher for: <see cref="Count"/> notifies spread round-robin over
/// <see cref="Targets"/> channels or user ids named <c>{Prefix}{0…Targets-1}</c>, at <see cref="Rate"/> per
/// second (0 = as fast as the window of <see cref="Window"/> notifies in flight allows).
/// </summary>
internal sealed record PublishRequest(string Kind, string Prefix, int Targets, int Count, double Rate, int Window, int PayloadBytes, string Selector);

/// <summary>
/// Publishes the benchmark stream as an app would — through <see cref="IServerEvents"/>, or, for the peer, a plain
/// <c>IHubContext</c>. Notify k goes to target k mod Targets and carries that target's sequence number
/// (k div Targets + 1) and the publish time in UTC ticks, so every subscriber can check loss, duplicates and order and
/// measure end-to-end latency.
/// </summary>
internal static class Publisher
{
    /// <summary>Through the Server Events API.</summary>
    public static Task<object> RunAsync(PublishRequest request, IServerEvents events) =>
        RunAsync(request, (target, json) => request.Kind == "user"
            ? events.NotifyUserIdJsonAsync(target, request.Selector, json)
            : events.NotifyChannelJsonAsync(target, request.Selector, json));

    /// <summary>Through <paramref name="send"/>(target, json).</summary>
    public static async Task<object> RunAsync(PublishRequest request, Func<string, string, Task> send)
    {
        var targets = Enumerable.Range(0, Math.Max(1, request.Targets)).Select(t => request.Prefix + t.ToString(CultureInfo.InvariantCulture)).ToArray();
        var pad = new string('x', Math.Max(0, request.PayloadBytes));
        var window = Math.Max(1, request.Window);
        // Refilled in halves: a wake of this loop per completed notify (a semaphore) cost one thread-pool work item per
        // notify on every back-end whose notifies complete asynchronously — a cost of the loop, not of the notify, and
        // one that an app's own callers, each awaiting its notify, do not have.
        var refillAt = window / 2;
        var inFlight = 0;
        TaskCompletionSource? refill = null;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var sends = new List<Task>(request.Count);
        for (var k = 0; k < request.Count; k++)
        {
            if (request.Rate > 0 && TimeSpan.FromSeconds(k / request.Rate) - clock.Elapsed is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait);
            }
            // A loop, not a test: a send that dropped to the refill mark but set the signal late may wake a full window.
            while (Volatile.Read(ref inFlight) >= window)
            {
                var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Interlocked.Exchange(ref refill, signal);
                // A send that brought it down before the signal was set could not set it.
                if (Volatile.Read(ref inFlight) > refillAt)
                {
                    await signal.Task;
                }
            }
            Interlocked.Increment(ref inFlight);
            var seq = (k / targets.Length) + 1;
            var json = string.Create(CultureInfo.InvariantCulture, $"{{\"seq\":{seq},\"ts\":{DateTime.UtcNow.Ticks},\"pad\":\"{pad}\"}}");
            sends.Add(SendAsync(targets[k % targets.Length], json));
        }
        await Task.WhenAll(sends);
        return new { sent = request.Count, failures, elapsedMs = clock.Elapsed.TotalMilliseconds };

        async Task SendAsync(string target, string json)
        {
            try
            {
                await send(target, json);
            }
            catch (Exception)
            {
                // Counted and reported: a failed notify shows up as loss in the driver's tally too.
                Interlocked.Increment(ref failures);
            }
            finally
            {
                if (Interlocked.Decrement(ref inFlight) <= refillAt)
                {
                    Interlocked.Exchange(ref refill, null)?.TrySetResult();
                }
            }
        }
    }
}

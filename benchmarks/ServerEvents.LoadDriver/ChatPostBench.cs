using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.LoadDriver;

/// <summary>What one back-end's chat-route run measured (the median of its measured rounds).</summary>
public sealed record ChatPostResult(string Backend, int Posts, int Concurrency, double PostsPerSecond, double ServerCpuMicrosPerPost,
    double P50, double P99, long Delivered, IReadOnlyList<string> Problems)
{
    public bool Exact => Problems.Count == 0;
}

/// <summary>
/// ChatHub's chat route as users call it: the built sample (history on, as it ships), one SSE subscriber in the channel,
/// and <c>POST /channels/home/chat</c> from a few concurrent clients. The figure is the sample process's CPU per POST —
/// reading the form, the sender's subscription, the message sequence, the notify, the chat history and the JSON answer,
/// plus the one delivery to the subscriber — measured over three rounds once warm-up rounds have settled (the JIT takes
/// tens of thousands of requests to finish tiering the route), median round reported.
/// </summary>
public static class ChatPostBench
{
    public const double TargetMicrosPerPost = 300;
    private const int MinWarmUpRounds = 8;
    private const int MaxWarmUpRounds = 16;
    private const int MeasuredRounds = 3;
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<ChatPostResult> RunAsync(string backend, int postsPerRound, int concurrency, TextWriter progress)
    {
        await using var redis = backend == "redis" ? await RedisServer.StartAsync() : null;
        await using var chat = await StartChatHubAsync(redis);
        using var stop = new CancellationTokenSource();
        var subscriber = await ChatSubscriber.ConnectAsync(chat.BaseUri, stop.Token);
        var problems = new List<string>();
        var rounds = new List<(double PostsPerSecond, double CpuMicros, double P50, double P99)>();
        long posted = 0;
        var warmUps = 0;
        var previous = double.NaN;
        while (rounds.Count < MeasuredRounds)
        {
            var cpuBefore = chat.CpuTime;
            var clock = Stopwatch.StartNew();
            var (latencies, failures) = await PostRoundAsync(chat.BaseUri, subscriber.SubscriptionId, postsPerRound, concurrency, posted);
            clock.Stop();
            var cpuMicros = (chat.CpuTime - cpuBefore).TotalMicroseconds / postsPerRound;
            posted += postsPerRound;
            if (failures.Count > 0)
            {
                problems.Add(Invariant($"a round of {postsPerRound} POSTs had {failures.Count} failures, first: {failures[0]}"));
            }
            // Warm until two rounds in a row cost within 10 % of each other.
            var settled = warmUps >= MinWarmUpRounds && Math.Abs(cpuMicros - previous) <= 0.1 * previous;
            if (warmUps < MaxWarmUpRounds && !settled && rounds.Count == 0)
            {
                warmUps++;
                previous = cpuMicros;
                progress.WriteLine(Invariant($"  warm-up round {warmUps}: {postsPerRound} POSTs, {cpuMicros:0} µs of server CPU each"));
                continue;
            }
            latencies.Sort();
            rounds.Add((postsPerRound / clock.Elapsed.TotalSeconds, cpuMicros, Percentiles.Of(latencies, 0.5), Percentiles.Of(latencies, 0.99)));
        }
        // Every chat message reaches the one subscriber; give the last ones a moment to arrive.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (subscriber.Received < posted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        if (subscriber.Received != posted)
        {
            problems.Add(Invariant($"the subscriber received {subscriber.Received} of {posted} chat messages"));
        }
        await stop.CancelAsync();
        var median = rounds.OrderBy(r => r.CpuMicros).ElementAt(rounds.Count / 2);
        return new ChatPostResult(backend, postsPerRound, concurrency, median.PostsPerSecond, median.CpuMicros, median.P50, median.P99, subscriber.Received, problems);
    }

    private static async Task<HostProcess> StartChatHubAsync(RedisDeployment? redis)
    {
        var dll = RepoPaths.Of("samples", "ChatHub", "bin", "Release", "net10.0", "ChatHub.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the solution in Release first: {dll} is missing.");
        }
        string[] args = ["--port", RedisServer.FreePort().ToString(CultureInfo.InvariantCulture), .. redis is null ? Array.Empty<string>() : ["--redis", redis.ConnectionString]];
        return await HostProcess.StartAsync(dll, "ChatHub on ", args,
            new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" });
    }

    private static async Task<(List<double> LatenciesMs, List<string> Failures)> PostRoundAsync(Uri server, string from, int posts, int concurrency, long first)
    {
        var latencies = new List<double>(posts);
        var failures = new List<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var k && k < posts)
            {
                using var body = new FormUrlEncodedContent([new("from", from), new("message", Invariant($"bench message {first + k}"))]);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await Http.PostAsync(new Uri(server, "/channels/home/chat"), body);
                    var answer = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        lock (failures)
                        {
                            failures.Add(Invariant($"{(int)response.StatusCode} {answer}"));
                        }
                        continue;
                    }
                }
                catch (HttpRequestException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex.Message);
                    }
                    continue;
                }
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(ms);
                }
            }
        }));
        return (latencies, failures);
    }

    /// <summary>The channel's one subscriber: an SSE stream that gives the sender's subscription id and counts the chat messages.</summary>
    private sealed class ChatSubscriber
    {
        private long _received;

        private ChatSubscriber(string subscriptionId) => SubscriptionId = subscriptionId;

        public string SubscriptionId { get; }

        public long Received => Interlocked.Read(ref _received);

        public static async Task<ChatSubscriber> ConnectAsync(Uri server, CancellationToken cancellationToken)
        {
            var response = await Http.GetAsync(new Uri(server, "/event-stream?channels=home"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.IndexOf("cmd.onConnect ", StringComparison.Ordinal) is var at and > 0)
                {
                    using var connect = JsonDocument.Parse(line[(at + "cmd.onConnect ".Length)..]);
                    var subscriber = new ChatSubscriber(connect.RootElement.GetProperty("id").GetString()!);
                    _ = subscriber.CountAsync(response, reader, cancellationToken);
                    return subscriber;
                }
            }
            throw new InvalidOperationException("The event stream ended before cmd.onConnect.");
        }

        private async Task CountAsync(HttpResponseMessage response, StreamReader reader, CancellationToken cancellationToken)
        {
            using (response)
            using (reader)
            {
                try
                {
                    while (await reader.ReadLineAsync(cancellationToken) is { } line)
                    {
                        if (line.StartsWith("data: home@cmd.chat ", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref _received);
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
                {
                    // The run is over, or the server went away (the count then shows what was missed).
                }
            }
        }
    }
}

/// <summary>The chat-route runs as a markdown table.</summary>
public static class ChatPostTable
{
    public const string Header =
        "| back-end | POSTs per round | concurrent clients | POSTs/s | server CPU µs/POST | p50 ms | p99 ms | delivered | exact |\n"
        + "|---|---|---|---|---|---|---|---|---|";

    public static string Row(ChatPostResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Backend} | {r.Posts:N0} | {r.Concurrency} | {r.PostsPerSecond:N0} | {r.ServerCpuMicrosPerPost:0} | {r.P50:0.00} | {r.P99:0.00} | {r.Delivered:N0} | {(r.Exact ? "yes" : "**no**")} |");
}

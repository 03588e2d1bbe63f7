using System.Text.RegularExpressions;
using Microsoft.Playwright;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Sample;

/// <summary>
/// Two people in headless Chromium (Debian's, driven by Playwright; no browser is ever downloaded) on two
/// ChatHub instances sharing Redis — one on SignalR, one on the ServiceStack SSE client — chat, whisper
/// and restyle each other's page; the page keeps its layout on laptop and phone windows. The screenshot in the README
/// comes from here.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Browser")]
public sealed class ChatHubBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] ChromiumFlags =
        ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private RedisServer? _redis;
    private HostProcess? _first;
    private HostProcess? _second;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        // Checked before anything starts: xunit does not dispose a test class whose InitializeAsync threw, so processes
        // started first would outlive the run.
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("Debian's chromium is not installed: run ./test.sh, which installs it.");
        _redis = await RedisServer.StartAsync();
        _first = await ChatHubProcess.StartAsync("--redis", _redis.ConnectionString, "--background", "/img/port-1337.svg");
        _second = await ChatHubProcess.StartAsync("--redis", _redis.ConnectionString, "--background", "/img/port-2337.svg");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ChromiumFlags });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        foreach (var disposable in new IAsyncDisposable?[] { _first, _second, _redis })
        {
            if (disposable is not null)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private async Task<IPage> OpenAsync(HostProcess instance, string query, int width = 1100, int height = 700)
    {
        var page = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        page.Console += (_, message) => output.WriteLine($"[{query}] console: {message.Text}");
        page.PageError += (_, error) => output.WriteLine($"[{query}] page error: {error}");
        await page.GotoAsync(new Uri(instance.BaseUri, "/?" + query).ToString());
        await Assertions.Expect(page.Locator("#status")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("online"), new() { Timeout = 15000 });
        return page;
    }

    private static async Task SendAsync(IPage page, string text)
    {
        await page.FillAsync("#message", text);
        await page.PressAsync("#message", "Enter");
    }

    [Fact]
    public async Task A_SignalR_user_and_an_SSE_user_on_two_instances_chat_whisper_and_restyle_each_other()
    {
        var signalR = await OpenAsync(_first!, "channels=home");
        var sse = await OpenAsync(_second!, "channels=home&transport=sse");
        var expect = new LocatorAssertionsToHaveCountOptions { Timeout = 15000 };

        // Each sees both users in the list, whatever transport and instance.
        await Assertions.Expect(signalR.Locator("#users li")).ToHaveCountAsync(2, expect);
        await Assertions.Expect(sse.Locator("#users li")).ToHaveCountAsync(2, expect);
        var signalRName = (await signalR.Locator("#users li.me span").TextContentAsync())!;
        var sseName = (await sse.Locator("#users li.me span").TextContentAsync())!;
        Assert.NotEqual(signalRName, sseName);

        await SendAsync(signalR, "hello from SignalR <b>bold?</b>");
        await Assertions.Expect(sse.Locator("#messages li .text").Last).ToHaveTextAsync("hello from SignalR <b>bold?</b>", new() { Timeout = 15000 });
        await SendAsync(sse, "hi back from SSE");
        await Assertions.Expect(signalR.Locator("#messages li .text").Last).ToHaveTextAsync("hi back from SSE", new() { Timeout = 15000 });

        // A private message: only the two of them, marked private, with the addressed copy for the sender.
        await SendAsync(sse, $"@{signalRName.Replace(" ", "", StringComparison.Ordinal)} just between us");
        await Assertions.Expect(signalR.Locator("#messages li.private .text").Last).ToHaveTextAsync("just between us", new() { Timeout = 15000 });
        await Assertions.Expect(sse.Locator("#messages li.private .text").Last).ToHaveTextAsync($"@{signalRName}: just between us", new() { Timeout = 15000 });

        // The README's picture: the page as someone opening ChatHub sees it, a few messages in, before any command restyles it.
        var screenshot = RepoPaths.Of("docs", "images", "chathub.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await signalR.ScreenshotAsync(new() { Path = screenshot });
        output.WriteLine($"Screenshot: {screenshot}");

        // A command from one page changes the other.
        await SendAsync(signalR, "/css.background #123456");
        await sse.WaitForFunctionAsync("() => getComputedStyle(document.body).backgroundColor === 'rgb(18, 52, 86)'", null, new() { Timeout = 15000 });
        await SendAsync(sse, "/cmd.announce Welcome to ChatHub");
        await Assertions.Expect(signalR.Locator("#announce")).ToHaveTextAsync("Welcome to ChatHub", new() { Timeout = 15000 });
    }

    [Fact]
    public async Task A_fresh_page_gives_the_window_to_the_messages_and_keeps_the_compose_bar_a_bar_at_the_bottom_with_or_without_an_announcement()
    {
        // A laptop, a larger laptop and a phone. Each page is new and on a channel of its own: nothing posted, no banner.
        (int Width, int Height)[] windows = [(1100, 700), (1440, 900), (390, 844)];
        var problems = new List<string>();
        foreach (var (width, height) in windows)
        {
            var page = await OpenAsync(_first!, $"channels=layout-{width}x{height}", width, height);
            problems.AddRange(await LayoutProblemsAsync(page, $"{width}x{height} fresh"));

            await SendAsync(page, "/cmd.announce Welcome to ChatHub");
            await Assertions.Expect(page.Locator("#announce")).ToBeVisibleAsync(new() { Timeout = 15000 });
            problems.AddRange(await LayoutProblemsAsync(page, $"{width}x{height} announcing"));
            await page.CloseAsync();
        }

        // Every window measured before failing, so one run shows the whole picture.
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>
    /// What is wrong with where the page puts its parts, each with the measured boxes: the message area should take most
    /// of the window, the compose bar stay a bar along its bottom edge, and only the message list scroll, not the page.
    /// </summary>
    private async Task<List<string>> LayoutProblemsAsync(IPage page, string window)
    {
        var viewport = page.ViewportSize!;
        var chat = await BoxOfAsync(page, "#chat");
        var compose = await BoxOfAsync(page, "#compose");
        var pageHeight = await page.EvaluateAsync<int>("() => document.documentElement.scrollHeight");
        var measured = $"{window}: messages {chat.Height:0} px high from y {chat.Y:0}, compose {compose.Height:0} px high from y {compose.Y:0}, page {pageHeight} px";
        output.WriteLine(measured);

        var problems = new List<string>();
        void Require(bool holds, string otherwise)
        {
            if (!holds)
            {
                problems.Add($"{otherwise} ({measured})");
            }
        }
        Require(chat.Height >= 0.6 * viewport.Height, $"the message area is under 60 % of the {viewport.Height} px window");
        Require(compose.Height < 120, "the compose bar is not a bar: 120 px high or more");
        Require(compose.X >= 0 && compose.Y >= 0 && compose.X + compose.Width <= viewport.Width && compose.Y + compose.Height <= viewport.Height + 0.5,
            "the compose bar is not inside the window");
        Require(compose.Y + compose.Height >= viewport.Height - 0.5, "the compose bar is not at the bottom of the window");
        Require(compose.Y >= chat.Y + chat.Height - 0.5, "the compose bar is not below the message area");
        Require(pageHeight <= viewport.Height, "the page scrolls as a whole");
        return problems;
    }

    private static async Task<LocatorBoundingBoxResult> BoxOfAsync(IPage page, string selector) =>
        await page.Locator(selector).BoundingBoxAsync() ?? throw new InvalidOperationException($"{selector} is not shown.");

    [Fact]
    public async Task The_status_page_shows_each_instance_live_with_its_own_subscriptions_a_deliveries_chart_and_Redis_up_and_says_when_its_server_is_down()
    {
        // Two SignalR users on the first instance, one SSE user on the second; a few messages make deliveries to chart.
        var first = await OpenAsync(_first!, "channels=home");
        await OpenAsync(_first!, "channels=home");
        var sse = await OpenAsync(_second!, "channels=home&transport=sse");
        await Assertions.Expect(first.Locator("header #status-link")).ToHaveAttributeAsync("href", "status");
        for (var i = 1; i <= 3; i++)
        {
            await SendAsync(first, $"for the chart {i}");
            await Assertions.Expect(sse.Locator("#messages li .text").Last).ToHaveTextAsync($"for the chart {i}", new() { Timeout = 15000 });
        }

        var status = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = 1440, Height = 900 } });
        var pageErrors = new List<string>();
        status.PageError += (_, error) => pageErrors.Add(error);
        await status.GotoAsync(new Uri(_second!.BaseUri, "/status").ToString());
        var within = new LocatorAssertionsToHaveAttributeOptions { Timeout = 15000 };
        ILocator CardOf(HostProcess instance) =>
            status.Locator(".server-card").Filter(new() { Has = status.Locator($"a.server-url[href='{instance.BaseUri}']") });

        await Assertions.Expect(status.Locator(".server-card")).ToHaveCountAsync(2, new() { Timeout = 15000 });
        foreach (var (instance, hub, sseCount, self) in new[] { (_first!, 2, 0, false), (_second!, 0, 1, true) })
        {
            var card = CardOf(instance);
            await Assertions.Expect(card).ToHaveAttributeAsync("data-server-id", new Regex("."), within);
            await Assertions.Expect(card.Locator(".subscriptions")).ToHaveAttributeAsync("data-hub", $"{hub}", within);
            await Assertions.Expect(card.Locator(".subscriptions")).ToHaveAttributeAsync("data-sse", $"{sseCount}", within);
            await Assertions.Expect(card.Locator(".subscriptions")).ToContainTextAsync($"{hub} hub · {sseCount} SSE");
            await Assertions.Expect(card.Locator(".redis-state")).ToHaveAttributeAsync("data-state", "up", within);
            await Assertions.Expect(card.Locator(".redis-state")).ToContainTextAsync("Redis up");
            await Assertions.Expect(card.Locator(".deliveries-now")).ToHaveTextAsync(new Regex(@"^\d"));
            await Assertions.Expect(card.Locator(".self-badge")).ToBeVisibleAsync(new() { Visible = self });
            // A drawn line: at least two points, over the last minute in which the messages went out.
            await Assertions.Expect(card.Locator("svg.deliveries-chart polyline.deliveries"))
                .ToHaveAttributeAsync("points", new Regex(@"^[\d.]+,[\d.]+( [\d.]+,[\d.]+)+$"), within);
        }
        // The chat's deliveries rise above the chart's baseline somewhere (each instance counts only its own recipients).
        await status.WaitForFunctionAsync("""
            () => [...document.querySelectorAll("svg.deliveries-chart polyline.deliveries")].some((line) => {
                const baseline = line.ownerSVGElement.viewBox.baseVal.height - 2;
                return [...line.points].some((p) => p.y < baseline - 0.5);
            })
            """, null, new() { Timeout = 15000 });
        await Assertions.Expect(status.Locator("#metrics-link")).ToHaveAttributeAsync("href", "/metrics");
        await Assertions.Expect(status.Locator("#health-link")).ToHaveAttributeAsync("href", "/health/ready");
        await Assertions.Expect(status.Locator("#chat-link")).ToHaveAttributeAsync("href", "/");

        // The picture in docs/operations.md comes from here.
        var screenshot = RepoPaths.Of("docs", "images", "status.png");
        await status.ScreenshotAsync(new() { Path = screenshot });
        output.WriteLine($"Screenshot: {screenshot}");

        // A phone: the cards stack and nothing is wider than the window.
        await status.SetViewportSizeAsync(390, 844);
        Assert.True(await status.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 390"), "the status page scrolls sideways at 390 px");
        var box = await BoxOfAsync(status, ".server-card >> nth=0");
        Assert.True(box.X >= 0 && box.X + box.Width <= 390, $"a card is {box.Width:0} px wide from x {box.X:0} in a 390 px window");

        // Its server gone, the page says so, keeps the last answer and keeps trying; the other instance drops the card.
        await _second!.KillAsync();
        await Assertions.Expect(status.Locator("#poll-error")).ToBeVisibleAsync(new() { Timeout = 15000 });
        await Assertions.Expect(status.Locator("#poll-error")).ToContainTextAsync("/status.json");
        await Assertions.Expect(status.Locator("#poll-state")).ToHaveClassAsync(new Regex("offline"));
        await Assertions.Expect(status.Locator(".server-card")).ToHaveCountAsync(2);
        await status.GotoAsync(new Uri(_first!.BaseUri, "/status").ToString());
        await Assertions.Expect(status.Locator(".server-card")).ToHaveCountAsync(1, new() { Timeout = 15000 });
        await Assertions.Expect(CardOf(_first!).Locator(".self-badge")).ToBeVisibleAsync();
        Assert.Empty(pageErrors);
    }

    [Fact]
    public async Task The_SignalR_page_resumes_after_its_instance_restarts_without_missing_or_repeating_a_message()
    {
        var port = RedisServer.FreePort();
        string[] args = ["--redis", _redis!.ConnectionString];
        var restarting = await ChatHubProcess.StartAsync(port, args);
        try
        {
            var signalR = await OpenAsync(restarting, "channels=home");
            var sse = await OpenAsync(_second!, "channels=home&transport=sse");
            var within = new LocatorAssertionsToHaveTextOptions { Timeout = 15000 };
            await SendAsync(sse, "before");
            await Assertions.Expect(signalR.Locator("#messages li .text").Last).ToHaveTextAsync("before", within);

            // The page's instance dies; five messages go out on the other one while it is away.
            await restarting.KillAsync();
            for (var i = 1; i <= 5; i++)
            {
                await SendAsync(sse, $"while away {i}");
                await Assertions.Expect(sse.Locator("#messages li .text").Last).ToHaveTextAsync($"while away {i}", within);
            }

            // Back on the same address: SignalR's automatic reconnect brings the page's lastEventId along.
            restarting = await ChatHubProcess.StartAsync(port, args);
            await Assertions.Expect(signalR.Locator("#status")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("online"), new() { Timeout = 30000 });
            await SendAsync(sse, "after");
            await Assertions.Expect(signalR.Locator("#messages li .text").Last).ToHaveTextAsync("after", within);

            var texts = await signalR.Locator("#messages li .text").AllTextContentsAsync();
            Assert.Equal(["before", "while away 1", "while away 2", "while away 3", "while away 4", "while away 5", "after"],
                texts.Where(t => t is "before" or "after" || t.StartsWith("while away", StringComparison.Ordinal)));
            Assert.DoesNotContain("missed too much", await signalR.Locator("#messages").TextContentAsync() ?? "", StringComparison.Ordinal);
        }
        finally
        {
            await restarting.DisposeAsync();
        }
    }
}

using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Packaging;

/// <summary>
/// The packages as a team consumes them: <c>dotnet pack</c> at the repository root, a fresh <c>dotnet new web</c> app
/// that takes them from a folder feed, the README's quick start pasted in verbatim, and the official SignalR client
/// receiving <c>cmd.onConnect</c> from it — so the README, the package metadata and the packages cannot drift apart.
/// </summary>
public sealed partial class PackageTests(PackedFeed packed, ITestOutputHelper output) : IClassFixture<PackedFeed>
{
    private readonly string _version = packed.Version;
    private readonly string _work = packed.Work;

    private string Feed => packed.Feed;

    [Fact]
    public async Task The_readme_quick_start_runs_from_the_packages_in_a_fresh_web_app()
    {
        output.WriteLine(packed.Log);
        var app = Path.Combine(_work, "app");
        await File.WriteAllTextAsync(Path.Combine(_work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="serverevents-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        await RunCheckedAsync("dotnet", ["new", "web", "-o", app, "--no-restore"], _work, TimeSpan.FromMinutes(1));
        var project = Path.Combine(app, "app.csproj");
        var csproj = XDocument.Load(project);
        csproj.Root!.Add(new XElement("ItemGroup",
            PackedFeed.PackageIds.Select(id => new XElement("PackageReference", new XAttribute("Include", id), new XAttribute("Version", _version)))));
        csproj.Save(project);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), QuickStart(await File.ReadAllTextAsync(RepoPaths.Of("README.md"))));

        await RunCheckedAsync("dotnet", ["build", "-c", "Release"], app, TimeSpan.FromMinutes(4));
        await using var host = await HostProcess.StartAsync(Path.Combine(app, "bin", "Release", "net10.0", "app.dll"), "Now listening on: ",
            ["--urls", "http://127.0.0.1:0", "--contentRoot", app]);

        var events = new List<JsonElement>();
        var onConnect = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new HubConnectionBuilder().WithUrl(new Uri(host.BaseUri, "/hub?channels=home")).Build();
        client.On<JsonElement>("event", e =>
        {
            lock (events)
            {
                events.Add(e);
            }
            switch (e.GetProperty("selector").GetString())
            {
                case "cmd.onConnect": onConnect.TrySetResult(e); break;
                case "cmd.onJoin": joined.TrySetResult(); break;
                case "cmd.chat": chat.TrySetResult(e); break;
            }
        });
        await client.StartAsync().DefaultTimeout();

        var connected = await onConnect.Task.DefaultTimeout();
        var info = JsonDocument.Parse(connected.GetProperty("json").GetString()!).RootElement;
        Assert.False(string.IsNullOrEmpty(info.GetProperty("id").GetString()));
        lock (events)
        {
            Assert.Equal("cmd.onConnect", events[0].GetProperty("selector").GetString());
        }

        // The quick start's publishing route, as its comment says: home@cmd.chat {"text":"…"}.
        await joined.Task.DefaultTimeout();
        using var http = new HttpClient { BaseAddress = host.BaseUri };
        using var posted = await http.PostAsync(new Uri("/say/home?text=hello%20from%20the%20package", UriKind.Relative), null).DefaultTimeout();
        Assert.True(posted.IsSuccessStatusCode, $"POST /say/home answered {(int)posted.StatusCode}");
        var message = await chat.Task.DefaultTimeout();
        Assert.Equal("home", message.GetProperty("channel").GetString());
        Assert.Equal("""{"text":"hello from the package"}""", message.GetProperty("json").GetString());

        // The package README's SSE program builds against the package too.
        using (var package = ZipFile.OpenRead(Path.Combine(Feed, $"ServerEvents.SignalR.{_version}.nupkg")))
        using (var readme = new StreamReader(package.GetEntry("README.md")!.Open()))
        {
            var sse = CSharpBlock().Matches(await readme.ReadToEndAsync()).Select(m => m.Groups["code"].Value)
                .SingleOrDefault(code => code.Contains("AddSseBridge()", StringComparison.Ordinal));
            Assert.True(sse is not null, "no C# block with AddSseBridge() in the package's README");
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), sse);
        }
        await RunCheckedAsync("dotnet", ["build", "-c", "Release"], app, TimeSpan.FromMinutes(4));
    }

    [Fact]
    public void Each_package_carries_its_readme_metadata_docs_and_symbols()
    {
        var quickStart = QuickStart(File.ReadAllText(RepoPaths.Of("README.md")));
        foreach (var id in PackedFeed.PackageIds)
        {
            var nupkg = Path.Combine(Feed, $"{id}.{_version}.nupkg");
            Assert.True(File.Exists(Path.Combine(Feed, $"{id}.{_version}.snupkg")), $"{id}: no symbols package");
            using var zip = ZipFile.OpenRead(nupkg);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);

            using var nuspecStream = zip.GetEntry($"{id}.nuspec")!.Open();
            var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Assert.Equal(id, Field("id"));
            Assert.Equal(_version, Field("version"));
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.True(Field("description").Length > 40, $"{id}: no description");
            Assert.Contains("signalr", Field("tags"), StringComparison.Ordinal);
            var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.StartsWith("https://", repository.Attribute("url")!.Value, StringComparison.Ordinal);

            if (id == "ServerEvents.SignalR")
            {
                // The package page shows the same quick start as the repository's README.
                using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
                Assert.Equal(quickStart, QuickStart(readme.ReadToEnd()));
            }
        }
        // One package: the SSE bridge is inside it (no second package to keep in lockstep).
        Assert.Equal([$"ServerEvents.SignalR.{_version}.nupkg"], Directory.GetFiles(Feed, "*.nupkg").Select(Path.GetFileName));
    }

    /// <summary>The first C# block under the "Quick start" heading.</summary>
    private static string QuickStart(string markdown)
    {
        var match = QuickStartBlock().Match(markdown);
        Assert.True(match.Success, "no ```csharp block under a \"Quick start\" heading");
        return match.Groups["code"].Value;
    }

    [GeneratedRegex(@"```csharp\n(?<code>[\s\S]*?)```")]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^#+ Quick start[^\n]*\n(?:(?!^#)[\s\S])*?```csharp\n(?<code>[\s\S]*?)```", RegexOptions.Multiline)]
    private static partial Regex QuickStartBlock();

    private async Task<ProcessRunner.Outcome> RunAsync(string file, string[] args, string directory, TimeSpan timeout)
    {
        var outcome = await ProcessRunner.RunAsync(file, args, timeout, directory);
        output.WriteLine($"$ {file} {string.Join(' ', args)} → {outcome.ExitCode}");
        return outcome;
    }

    private async Task RunCheckedAsync(string file, string[] args, string directory, TimeSpan timeout)
    {
        var outcome = await RunAsync(file, args, directory, timeout);
        Assert.True(outcome.ExitCode == 0, $"{file} {string.Join(' ', args)} failed:\n{outcome.Stdout}{outcome.Stderr}");
    }
}

/// <summary>
/// The packages, packed once for the class by <c>dotnet pack</c> at the repository root into a folder feed, under a
/// version no earlier run used (so NuGet's global cache can never hand back a stale package of the same version).
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public static readonly string[] PackageIds = ["ServerEvents.SignalR"];

    public string Version { get; } = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";

    public string Work { get; } = Directory.CreateTempSubdirectory("serverevents-pack-").FullName;

    public string Feed => Path.Combine(Work, "feed");

    public string Log { get; private set; } = "";

    public async Task InitializeAsync()
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        // --no-build: the suite runs on what test.sh built; rebuilding here would rewrite assemblies other tests load.
        string[] args = ["pack", "ServerEvents.sln", "-c", configuration, "--no-build", "-o", Feed, $"-p:Version={Version}"];
        var pack = await ProcessRunner.RunAsync("dotnet", args, TimeSpan.FromMinutes(3), RepoPaths.Root);
        Log = $"$ dotnet {string.Join(' ', args)} → {pack.ExitCode}";
        Assert.True(pack.ExitCode == 0, $"dotnet pack failed:\n{pack.Stdout}{pack.Stderr}");
        Assert.DoesNotContain("warning", pack.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Work, recursive: true);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in PackageIds)
        {
            var cached = Path.Combine(cache, id.ToLowerInvariant(), Version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
        return Task.CompletedTask;
    }
}

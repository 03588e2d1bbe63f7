using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Docs;

/// <summary>
/// Every C# block of the README, the package READMEs and docs/ compiles against the built assemblies, so the docs cannot
/// rot. A block with <c>WebApplication.CreateBuilder</c> is a whole program; any other is a fragment of one, compiled
/// inside a method that has <c>builder</c> and <c>app</c> unless the block declares them itself.
/// </summary>
public sealed partial class DocSnippetTests
{
    // What a web project (Microsoft.NET.Sdk.Web) imports implicitly.
    private const string WebUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Net.Http.Json;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        """;

    // What an app that follows the docs has: the shared frameworks, our package and what it brings (StackExchange.Redis),
    // and the packages the docs name (OpenTelemetry) — not the test assembly or the test-only packages beside it.
    private static readonly string[] DocumentedPackages = ["ServerEvents.SignalR", "StackExchange.Redis", "Pipelines.Sockets.Unofficial", "OpenTelemetry"];

    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Where(path => path.Contains($"{Path.DirectorySeparatorChar}shared{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || DocumentedPackages.Any(p => Path.GetFileName(path).StartsWith(p, StringComparison.Ordinal)))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    public static TheoryData<string, int> Snippets()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in DocumentedFiles())
        {
            foreach (var (line, _) in Blocks(File.ReadAllText(RepoPaths.Of(file))))
            {
                data.Add(file, line);
            }
        }
        return data;
    }

    [Fact]
    public void The_docs_have_snippets_to_compile()
    {
        Assert.True(Snippets().Count >= 10, $"only {Snippets().Count} C# snippets found");
        Assert.Contains(Snippets(), s => (string)s[0] == "docs/migrating-from-servicestack.md");
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Compiles(string file, int line)
    {
        var code = Blocks(File.ReadAllText(RepoPaths.Of(file))).Single(b => b.Line == line).Code;
        var errors = Compile(code);
        Assert.True(errors.Count == 0, $"{file}:{line} does not compile:\n{string.Join('\n', errors)}\n---\n{code}");
    }

    [Fact]
    public void The_QuickStart_sample_is_the_READMEs_quick_start()
    {
        var readme = File.ReadAllText(RepoPaths.Of("README.md"));
        var quickStart = Blocks(readme[readme.IndexOf("## Quick start", StringComparison.Ordinal)..]).First().Code;
        var sample = File.ReadAllText(RepoPaths.Of("samples", "QuickStart", "Program.cs")).ReplaceLineEndings("\n").TrimEnd('\n');
        Assert.Equal(quickStart, sample);
    }

    [Fact]
    public void A_broken_snippet_is_caught()
    {
        Assert.NotEmpty(Compile("builder.Services.AddServerEvents(o => o.NoSuchOption = 1);"));
        Assert.NotEmpty(Compile("var builder = WebApplication.CreateBuilder(args);\nbuilder.Services.AddServerEvents().AddNothing();"));
        Assert.Empty(Compile("builder.Services.AddServerEvents();\napp.MapServerEvents(\"/hub\");"));
        // Test-only assemblies are not there for a snippet to lean on.
        Assert.NotEmpty(Compile("var client = new Microsoft.AspNetCore.SignalR.Client.HubConnectionBuilder();"));
        Assert.NotEmpty(Compile("var fixture = typeof(ServerEvents.Tests.Fixtures.AppServer);"));
    }

    private static IEnumerable<string> DocumentedFiles()
    {
        yield return "README.md";
        yield return "src/ServerEvents.SignalR/README.md";
        foreach (var doc in Directory.GetFiles(RepoPaths.Of("docs"), "*.md").Order(StringComparer.Ordinal))
        {
            yield return "docs/" + Path.GetFileName(doc);
        }
    }

    private static IEnumerable<(int Line, string Code)> Blocks(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() is not ("```csharp" or "```cs" or "```c#"))
            {
                continue;
            }
            var start = i + 1;
            var end = start;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }
            yield return (start, string.Join('\n', lines[start..end]));
            i = end;
        }
    }

    private static List<string> Compile(string code)
    {
        var program = code.Contains("WebApplication.CreateBuilder", StringComparison.Ordinal);
        var source = program ? code : AsFragment(code);
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [
                CSharpSyntaxTree.ParseText(WebUsings, Parse),
                CSharpSyntaxTree.ParseText(source, Parse, path: "snippet.cs"),
            ],
            References.Value,
            new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.ToString())
            .ToList();
    }

    private static readonly CSharpParseOptions Parse = new(LanguageVersion.Preview);

    // The fragment's usings go on top; the rest runs in a method that gives it the usual locals of a Program.cs.
    private static string AsFragment(string code)
    {
        var lines = code.Split('\n');
        var usings = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.StartsWith("//", StringComparison.Ordinal) || l.Trim().Length == 0).ToList();
        var rest = lines.Skip(usings.Count).ToList();
        // Types declared after the statements (an app's events class, a hub) go beside the method, not in it.
        var firstType = rest.FindIndex(l => TypeDeclaration().IsMatch(l));
        var body = string.Join('\n', firstType < 0 ? rest : rest[..firstType]);
        var types = firstType < 0 ? "" : string.Join('\n', rest[firstType..]);
        var parameters = new List<string>();
        if (!Declares(body, "builder"))
        {
            parameters.Add("WebApplicationBuilder builder");
        }
        if (!Declares(body, "app"))
        {
            parameters.Add("WebApplication app");
        }
        var source = new StringBuilder();
        source.AppendJoin('\n', usings).Append('\n');
        source.Append("internal static class Fragment\n{\n    internal static async Task RunAsync(")
            .AppendJoin(", ", parameters)
            .Append(")\n    {\n        await Task.CompletedTask;\n")
            .Append(body)
            .Append("\n    }\n}\n")
            .Append(types);
        return source.ToString();
    }

    [GeneratedRegex(@"^(public |internal )?(sealed |static |abstract |partial )*(class|record|interface|enum) ")]
    private static partial Regex TypeDeclaration();

    private static bool Declares(string code, string name) => Regex.IsMatch(code, $@"\bvar\s+{name}\s*=");
}

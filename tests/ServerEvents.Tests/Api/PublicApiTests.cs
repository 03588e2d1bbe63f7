using System.Reflection;
using System.Text;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Api;

/// <summary>
/// The shipped public API, pinned: a change to it fails here until <c>PublicApi.txt</c> is updated with it (and the
/// change log says so). Conventions that reviewers of ASP.NET Core libraries check are asserted on every type.
/// </summary>
public sealed class PublicApiTests
{
    private static IEnumerable<Type> PublicTypes => typeof(IServerEvents).Assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal);

    [Fact]
    public void The_public_API_is_the_reviewed_one()
    {
        var path = Path.Combine(RepoPaths.Root, "tests", "ServerEvents.Tests", "Api", "PublicApi.txt");
        var actual = Describe();
        if (Environment.GetEnvironmentVariable("SERVEREVENTS_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(path, actual);
        }
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        var added = actual.Split('\n').Except(expected.Split('\n')).ToList();
        var removed = expected.Split('\n').Except(actual.Split('\n')).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            "The public API changed; review it, note it in docs/changelog.md and run the test with SERVEREVENTS_UPDATE_PUBLIC_API=1.\n" +
            string.Join('\n', added.Select(l => "+ " + l).Concat(removed.Select(l => "- " + l))));
    }

    [Fact]
    public void Registration_and_mapping_extensions_live_where_ASP_NET_Core_puts_them()
    {
        var extensions = PublicTypes.Where(t => t.IsAbstract && t.IsSealed)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => (Type: t, Method: m)))
            .ToList();
        foreach (var (type, method) in extensions.Where(e => e.Method.Name.StartsWith("Add", StringComparison.Ordinal)))
        {
            Assert.True(type.Namespace == "Microsoft.Extensions.DependencyInjection", $"{type.Name}.{method.Name} is in {type.Namespace}");
        }
        foreach (var (type, method) in extensions.Where(e => e.Method.Name.StartsWith("Map", StringComparison.Ordinal)))
        {
            Assert.True(type.Namespace == "Microsoft.AspNetCore.Builder", $"{type.Name}.{method.Name} is in {type.Namespace}");
        }
        Assert.Contains(extensions, e => e.Method.Name == "MapServerEvents" && e.Method.IsGenericMethodDefinition);
    }

    [Fact]
    public void Classes_are_sealed_unless_meant_to_be_derived_from()
    {
        Type[] extensionPoints = [typeof(ServerEventsHubBase), typeof(ServerEventsHub), typeof(SubscriptionEvents), typeof(ServerEventsHookContext), typeof(SubscriptionContext)];
        var open = PublicTypes.Where(t => t.IsClass && !t.IsSealed && !extensionPoints.Contains(t)).Select(t => t.FullName).ToList();
        Assert.Empty(open);
        // Contexts are made by the library only.
        Assert.All(PublicTypes.Where(t => t.IsSubclassOf(typeof(ServerEventsHookContext))), t => Assert.Empty(t.GetConstructors()));
    }

    private static string Describe()
    {
        var text = new StringBuilder();
        foreach (var type in PublicTypes)
        {
            text.Append(Kind(type)).Append(' ').Append(Name(type));
            if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum))
            {
                text.Append(" : ").Append(Name(baseType));
            }
            text.Append('\n');
            const BindingFlags declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(declared)
                .Where(m => m is not MethodInfo { IsSpecialName: true } && !(type.IsEnum && m.Name == "value__"))
                .Select(m => "  " + Member(m))
                .Concat(type.GetMembers(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                    .OfType<MethodBase>().Where(m => m.IsFamily || m.IsFamilyOrAssembly).Select(m => "  protected " + Member(m)))
                .Order(StringComparer.Ordinal);
            foreach (var member in members)
            {
                text.Append(member).Append('\n');
            }
        }
        return text.ToString();
    }

    private static string Kind(Type type) =>
        type.IsInterface ? "interface" : type.IsEnum ? "enum" : type.IsValueType ? "struct" : type.IsAbstract && type.IsSealed ? "static class"
        : type.IsAbstract ? "abstract class" : type.IsSealed ? "sealed class" : "class";

    private static string Member(MemberInfo member) => member switch
    {
        ConstructorInfo c => $"ctor({Parameters(c)})",
        MethodInfo m => $"{(m.IsStatic ? "static " : "")}{(m.IsVirtual && !m.IsFinal && !m.DeclaringType!.IsInterface ? "virtual " : "")}{Name(m.ReturnType)} {m.Name}{(m.IsGenericMethodDefinition ? "<" + string.Join(",", m.GetGenericArguments().Select(a => a.Name)) + ">" : "")}({Parameters(m)})",
        PropertyInfo p => $"{Name(p.PropertyType)} {p.Name} {{ {(p.GetMethod?.IsPublic == true ? "get; " : "")}{(p.SetMethod?.IsPublic == true ? (p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit") ? "init; " : "set; ") : "")}}}",
        FieldInfo f => $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{Name(f.FieldType)} {f.Name}",
        Type t => $"nested {Name(t)}",
        _ => member.ToString()!,
    };

    private static string Parameters(MethodBase method) =>
        string.Join(", ", method.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")}"));

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }
        if (type.IsByRef)
        {
            return "ref " + Name(type.GetElementType()!);
        }
        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }
        var name = type.IsGenericType ? type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)] : type.Name;
        var full = (type.Namespace is { } ns ? ns + "." : "") + (type.IsNested ? type.DeclaringType!.Name + "." : "") + name;
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }
        return type.IsGenericType ? $"{full}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>" : full;
    }
}

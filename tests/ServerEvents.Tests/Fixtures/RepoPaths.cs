namespace ServerEvents.Tests.Fixtures;

/// <summary>Paths inside the repository, found from the test assembly's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerEvents.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"ServerEvents.sln not found above {AppContext.BaseDirectory}.");
    }
}

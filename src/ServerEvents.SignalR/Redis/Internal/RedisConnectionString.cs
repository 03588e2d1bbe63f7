using System.Globalization;
using StackExchange.Redis;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// Turns a connection string into StackExchange.Redis options: its own format (<c>host:port,password=…,ssl=true</c>,
/// several endpoints for a cluster), or a <c>redis://[user:password@]host:port/db</c> URL (<c>rediss://</c> for TLS).
/// </summary>
internal static class RedisConnectionString
{
    public static ConfigurationOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var text = connectionString.Trim();
        if (!text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            var options = ConfigurationOptions.Parse(text);
            options.SetDefaultPorts();
            return options.EndPoints.Count > 0 ? options : throw new ArgumentException("The Redis connection string names no endpoint.", nameof(connectionString));
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("The Redis URL is not a valid redis://host:port/db URL.", nameof(connectionString));
        }
        var result = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        result.EndPoints.Add(uri.Host.Trim('[', ']'), uri.IsDefaultPort ? 6379 : uri.Port);
        if (uri.UserInfo.Length > 0)
        {
            // user:password, :password, or a lone password (as redis-cli reads it).
            var parts = uri.UserInfo.Split(':', 2);
            if (parts.Length == 2)
            {
                result.User = parts[0].Length > 0 ? Uri.UnescapeDataString(parts[0]) : null;
                result.Password = Uri.UnescapeDataString(parts[1]);
            }
            else
            {
                result.Password = Uri.UnescapeDataString(parts[0]);
            }
        }
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            result.DefaultDatabase = int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database)
                ? database
                : throw new ArgumentException($"The Redis URL's database '{path}' is not a number.", nameof(connectionString));
        }
        return result;
    }

    /// <summary>The endpoints, for messages: never the password.</summary>
    public static string Describe(ConfigurationOptions options) =>
        options.EndPoints.Count == 0 ? "(no endpoint)" : string.Join(",", options.EndPoints.Select(EndPointCollection.ToString));
}

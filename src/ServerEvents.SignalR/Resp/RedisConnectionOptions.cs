using System.Globalization;

namespace ServerEvents.Resp;

/// <summary>
/// Where and how to connect to Redis. Parse from the forms users already write:
/// <c>localhost</c>, <c>host:6380</c>, <c>host:port,password=…,user=…,ssl=true,defaultDatabase=2,connectTimeout=5000,name=app</c>
/// (StackExchange.Redis style) or <c>redis://[user:password@]host:port/db</c> (<c>rediss://</c> for TLS).
/// </summary>
public sealed class RedisConnectionOptions
{
    // StackExchange.Redis options that have no meaning here but appear in pasted strings; accepted and ignored.
    private static readonly HashSet<string> Ignored = new(StringComparer.OrdinalIgnoreCase)
    {
        "abortConnect", "allowAdmin", "connectRetry", "keepAlive", "resolveDns", "tiebreaker", "version",
        "configChannel", "checkCertificateRevocation", "asyncTimeout", "responseTimeout", "setlib",
    };

    /// <summary>Host name or IP address.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>TCP port.</summary>
    public int Port { get; set; } = 6379;

    /// <summary>ACL user name (Redis 6+), or <see langword="null"/> for the default user.</summary>
    public string? User { get; set; }

    /// <summary>Password for AUTH, or <see langword="null"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Connect with TLS.</summary>
    public bool Ssl { get; set; }

    /// <summary>Host name to validate the server certificate against (defaults to <see cref="Host"/>).</summary>
    public string? SslHost { get; set; }

    /// <summary>
    /// Decides whether to trust the server's TLS certificate (for a private CA or a pinned certificate);
    /// <see langword="null"/> uses the system's validation. Not part of the connection string.
    /// </summary>
    public System.Net.Security.RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    /// <summary>Database selected after connecting.</summary>
    public int Database { get; set; }

    /// <summary>Name set with CLIENT SETNAME, visible in CLIENT LIST.</summary>
    public string? ClientName { get; set; }

    /// <summary>Time allowed to open the socket and complete the handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed for one command's reply.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First delay before reconnecting; doubles up to <see cref="MaxReconnectDelay"/>, with jitter.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between reconnect attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The endpoint as <c>host:port</c>, for messages.</summary>
    public string EndPoint => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses a connection string; throws <see cref="ArgumentException"/> naming the bad part.</summary>
    /// <param name="connectionString">The connection string.</param>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var text = connectionString.Trim();
        return text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase)
            ? ParseUri(text)
            : ParseList(text);
    }

    /// <summary>The options as a connection string without the password.</summary>
    public override string ToString()
    {
        var parts = new List<string> { EndPoint };
        if (User is not null)
        {
            parts.Add("user=" + User);
        }
        if (Password is not null)
        {
            parts.Add("password=*****");
        }
        if (Ssl)
        {
            parts.Add("ssl=true");
        }
        if (Database != 0)
        {
            parts.Add("defaultDatabase=" + Database.ToString(CultureInfo.InvariantCulture));
        }
        if (ClientName is not null)
        {
            parts.Add("name=" + ClientName);
        }
        return string.Join(',', parts);
    }

    private static RedisConnectionOptions ParseList(string text)
    {
        var options = new RedisConnectionOptions();
        var endpointSeen = false;
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (endpointSeen)
                {
                    throw new ArgumentException($"Only one Redis endpoint is supported; found a second one, '{raw}'.", nameof(text));
                }
                (options.Host, options.Port) = ParseEndPoint(raw);
                endpointSeen = true;
                continue;
            }
            var key = raw[..eq].Trim();
            var value = raw[(eq + 1)..].Trim();
            switch (key.ToUpperInvariant())
            {
                case "PASSWORD":
                    options.Password = value;
                    break;
                case "USER":
                    options.User = value;
                    break;
                case "SSL":
                    options.Ssl = ParseBool(key, value);
                    break;
                case "SSLHOST":
                    options.SslHost = value;
                    break;
                case "DEFAULTDATABASE":
                    options.Database = ParseInt(key, value, 0, 1_000_000);
                    break;
                case "NAME":
                    options.ClientName = value;
                    break;
                case "CONNECTTIMEOUT":
                    options.ConnectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                case "SYNCTIMEOUT":
                case "COMMANDTIMEOUT":
                    options.CommandTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                default:
                    if (!Ignored.Contains(key))
                    {
                        throw new ArgumentException($"Unknown Redis connection option '{key}'.", nameof(text));
                    }
                    break;
            }
        }
        if (!endpointSeen)
        {
            throw new ArgumentException("The Redis connection string names no host.", nameof(text));
        }
        return options;
    }

    private static RedisConnectionOptions ParseUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("The Redis URI is not valid (expected redis://[user:password@]host:port/db).", nameof(text));
        }
        var options = new RedisConnectionOptions
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port,
            Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                // redis://secret@host: a lone user-info part is the password (as redis-cli reads it).
                options.Password = Uri.UnescapeDataString(uri.UserInfo);
            }
            else
            {
                var user = Uri.UnescapeDataString(uri.UserInfo[..colon]);
                options.User = user.Length == 0 ? null : user;
                options.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            options.Database = ParseInt("database", path, 0, 1_000_000);
        }
        return options;
    }

    private static (string Host, int Port) ParseEndPoint(string text)
    {
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Bad endpoint '{text}'.", nameof(text));
            }
            var host6 = text[1..close];
            var rest = text[(close + 1)..];
            return (host6, rest.StartsWith(':') ? ParseInt("port", rest[1..], 1, 65535) : 6379);
        }
        var colon = text.LastIndexOf(':');
        if (colon < 0)
        {
            return (text, 6379);
        }
        var host = text[..colon];
        if (host.Length == 0)
        {
            throw new ArgumentException($"Bad endpoint '{text}': no host.", nameof(text));
        }
        return (host, ParseInt("port", text[(colon + 1)..], 1, 65535));
    }

    private static int ParseInt(string key, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"Redis option '{key}' must be a whole number from {min} to {max}; got '{value}'.", nameof(value));

    private static bool ParseBool(string key, string value) =>
        bool.TryParse(value, out var b) ? b : throw new ArgumentException($"Redis option '{key}' must be true or false; got '{value}'.", nameof(value));
}

using System.Globalization;

namespace ServerEvents;

/// <summary>Identifies this app server among the servers sharing one back-end.</summary>
internal sealed class ServerIdentity
{
    /// <summary>A new id for this process: machine name, process id and a random suffix.</summary>
    public ServerIdentity()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        Id = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{suffix}");
    }

    /// <summary>The server id stored in <see cref="SubscriptionInfo.ServerId"/>.</summary>
    public string Id { get; }
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>
/// Counts this server's live subscriptions (hub and SSE) per client address against
/// <see cref="ServerEventsOptions.MaxConnectionsPerAddress"/>, so one client without a user or session id cannot open
/// thousands. Loopback counts like any address (a client on the same machine is a client); only connections without
/// an address (in-process ones) are not counted. Behind a proxy, forwarded headers must give the client's address.
/// </summary>
internal sealed class ConnectionsPerAddress(IOptions<ServerEventsOptions> options)
{
    private readonly int? _limit = options.Value.MaxConnectionsPerAddress;
    private readonly ConcurrentDictionary<IPAddress, int> _counts = new();

    /// <summary>The limit, for messages.</summary>
    public int? Limit => _limit;

    /// <summary>Counts one more connection from <paramref name="address"/>; false (nothing counted) when it has the most allowed.</summary>
    public bool TryAcquire(IPAddress? address)
    {
        address = Normalize(address);
        if (_limit is not { } limit || !Counted(address))
        {
            return true;
        }
        while (true)
        {
            var current = _counts.GetOrAdd(address!, 0);
            if (current >= limit)
            {
                return false;
            }
            if (_counts.TryUpdate(address!, current + 1, current))
            {
                return true;
            }
        }
    }

    /// <summary>Ends what a successful <see cref="TryAcquire"/> counted.</summary>
    public void Release(IPAddress? address)
    {
        address = Normalize(address);
        if (_limit is null || !Counted(address))
        {
            return;
        }
        while (_counts.TryGetValue(address!, out var current))
        {
            // The entry goes with the last connection, so the table holds live addresses only.
            if (current <= 1 ? _counts.TryRemove(new KeyValuePair<IPAddress, int>(address!, current)) : _counts.TryUpdate(address!, current - 1, current))
            {
                return;
            }
        }
    }

    /// <summary>One key per client: an IPv4 address seen through a dual-stack socket counts as itself.</summary>
    public static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    private static bool Counted(IPAddress? address) => address is not null;
}

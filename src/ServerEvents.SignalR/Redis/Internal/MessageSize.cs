using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// One message's serialized size for its recipients' protocols, looked up once per protocol rather than once per
/// recipient (each lookup takes the message's lock); the recipients of a message nearly always share one protocol.
/// </summary>
internal struct MessageSize(SerializedHubMessage message)
{
    private IHubProtocol? _protocol;
    private int _size;

    public int For(IHubProtocol protocol)
    {
        if (!ReferenceEquals(protocol, _protocol))
        {
            _size = LocalConnection.SizeOf(message, protocol);
            _protocol = protocol;
        }
        return _size;
    }
}

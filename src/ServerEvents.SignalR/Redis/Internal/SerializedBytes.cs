using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// One message as serialized for its recipients' protocols, looked up once per protocol rather than once per recipient
/// (each lookup takes the message's lock); the recipients of a message nearly always share one protocol.
/// </summary>
internal struct SerializedBytes(SerializedHubMessage message)
{
    private IHubProtocol? _protocol;
    private ReadOnlyMemory<byte> _bytes;

    public ReadOnlyMemory<byte> For(IHubProtocol protocol)
    {
        if (!ReferenceEquals(protocol, _protocol))
        {
            _bytes = LocalConnection.SerializedFor(message, protocol);
            _protocol = protocol;
        }
        return _bytes;
    }
}

using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// The hub protocol of SSE connections: SignalR serializes each message once per protocol, so this turns
/// one event into one ServiceStack frame shared by every SSE recipient on the server. The event envelope
/// becomes <c>id: {eventId}</c> + <c>data: [channel@]selector json</c>; any other hub invocation (an app's
/// <c>Clients.Group(channel).SendAsync("name", arg)</c>) becomes <c>data: cmd.name json</c> without an id.
/// SSE clients send nothing through the connection (they use HTTP requests), so nothing is ever parsed.
/// </summary>
internal sealed class SseHubProtocol(IOptions<ServerEventsOptions> options) : IHubProtocol, IInternalHubProtocol
{
    public const string ProtocolName = "servicestack-sse";

    private readonly JsonSerializerOptions _json = options.Value.JsonSerializerOptions;

    public string Name => ProtocolName;

    public int Version => 1;

    public TransferFormat TransferFormat => TransferFormat.Text;

    public bool IsVersionSupported(int version) => version == 1;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        message = null;
        return false;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output)
    {
        switch (message)
        {
            case InvocationMessage { Target: ServerEventsHubBase.ClientMethod, Arguments: [ServerEvent serverEvent] }:
                SseFrames.Write(output, serverEvent.EventId, serverEvent.Channel, serverEvent.Selector, serverEvent.Json);
                break;
            case InvocationMessage invocation:
                SseFrames.Write(output, 0, null, "cmd." + invocation.Target, ArgumentsJson(invocation.Arguments));
                break;
            case CloseMessage { Error: { } error }:
                SseFrames.WriteClosed(output, error);
                break;
            default:
                // Pings, close messages and completions have no SSE form; the transport sends its own keep-alive.
                break;
        }
    }

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WriteMessage(message, buffer);
        return buffer.WrittenMemory;
    }

    private string ArgumentsJson(object?[] arguments) => arguments switch
    {
        [] => "",
        [var single] => JsonSerializer.Serialize(single, _json),
        _ => JsonSerializer.Serialize(arguments, _json),
    };
}

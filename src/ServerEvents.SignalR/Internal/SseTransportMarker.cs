namespace ServerEvents.Internal;

/// <summary>
/// The feature the SSE bridge sets on its connections, so that the core can tell them from hub connections (metrics
/// by transport) without knowing the bridge's types.
/// </summary>
internal sealed class SseTransportMarker
{
    public static readonly SseTransportMarker Instance = new();

    private SseTransportMarker()
    {
    }
}

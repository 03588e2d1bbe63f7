using System.Text.Json.Serialization;

namespace ServerEvents;

/// <summary>
/// The single unit of delivery: every notification and lifecycle event reaches hub clients as one
/// invocation of the client method <see cref="ServerEventsHubBase.ClientMethod"/> carrying this envelope.
/// </summary>
/// <remarks>
/// The envelope is built and serialized once per published event (SignalR caches the serialized
/// bytes per protocol), never once per connection. The JSON property names are a wire contract and
/// are pinned so that an app's own payload naming policy cannot change them.
/// </remarks>
/// <param name="EventId">Assigned once per published event; increases with every event.</param>
/// <param name="Channel">The channel for channel-targeted events, otherwise <see langword="null"/>.</param>
/// <param name="Selector">ServiceStack selector such as <c>cmd.chat</c> or <c>css.background</c>.</param>
/// <param name="Json">The payload as JSON text (may be empty when there is no body).</param>
public sealed record ServerEvent(
    [property: JsonPropertyName("eventId")] long EventId,
    [property: JsonPropertyName("channel")] string? Channel,
    [property: JsonPropertyName("selector")] string Selector,
    [property: JsonPropertyName("json")] string Json);

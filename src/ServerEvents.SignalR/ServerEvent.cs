using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace ServerEvents;

/// <summary>
/// The single unit of delivery: every notification and lifecycle event reaches hub clients as one
/// invocation of the client method <see cref="ServerEventsHubBase.ClientMethod"/> carrying this envelope.
/// </summary>
/// <remarks>
/// The envelope is built and serialized once per published event (SignalR caches the serialized
/// bytes per protocol), never once per connection. The property names are a wire contract, pinned so that an app's own
/// payload naming policy cannot change them: for JSON by <c>JsonPropertyName</c>, for SignalR's MessagePack protocol by
/// <c>DataMember</c> (its resolver would otherwise use the C# names, <c>EventId</c> and so on).
/// </remarks>
/// <param name="EventId">Assigned once per published event; increases with every event.</param>
/// <param name="Channel">The channel for channel-targeted events, otherwise <see langword="null"/>.</param>
/// <param name="Selector">ServiceStack selector such as <c>cmd.chat</c> or <c>css.background</c>.</param>
/// <param name="Json">The payload as JSON text (may be empty when there is no body).</param>
[DataContract]
public sealed record ServerEvent(
    [property: JsonPropertyName("eventId"), DataMember(Name = "eventId")] long EventId,
    [property: JsonPropertyName("channel"), DataMember(Name = "channel")] string? Channel,
    [property: JsonPropertyName("selector"), DataMember(Name = "selector")] string Selector,
    [property: JsonPropertyName("json"), DataMember(Name = "json")] string Json);

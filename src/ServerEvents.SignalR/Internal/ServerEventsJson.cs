using System.Text.Json.Serialization;

namespace ServerEvents.Internal;

/// <summary>Source-generated serializer for the lifecycle payloads (flat string dictionaries).</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(SubscriptionInfo))]
internal sealed partial class ServerEventsJson : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace ChatHub;

/// <summary>A chat line, shaped as ServiceStack Chat's <c>ChatMessage</c> (JSON camelCase).</summary>
public sealed record ChatMessage(
    long Id,
    string Channel,
    string FromUserId,
    string FromName,
    string Message,
    [property: JsonPropertyName("private")] bool Private);

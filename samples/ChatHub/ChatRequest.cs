using System.Text.Json;

namespace ChatHub;

/// <summary>
/// A request's fields as ServiceStack binds them: route, query, then a JSON or form-encoded body; names are
/// case-insensitive and empty values count as absent (the page posts <c>toUserId=</c> for "nobody").
/// </summary>
public sealed class ChatRequest
{
    private const int MaxBody = 64 * 1024;
    private readonly Dictionary<string, string> _fields = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<ChatRequest> ReadAsync(HttpRequest request)
    {
        var fields = new ChatRequest();
        foreach (var (key, value) in request.RouteValues)
        {
            fields.Set(key, value?.ToString());
        }
        foreach (var (key, value) in request.Query)
        {
            fields.Set(key, value.ToString());
        }
        if (request.ContentLength > MaxBody)
        {
            throw new BadHttpRequestException($"The request body is larger than {MaxBody} bytes.", StatusCodes.Status413PayloadTooLarge);
        }
        if (request.HasFormContentType)
        {
            foreach (var (key, value) in await request.ReadFormAsync())
            {
                fields.Set(key, value.ToString());
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (body.Length > MaxBody)
            {
                throw new BadHttpRequestException($"The request body is larger than {MaxBody} bytes.", StatusCodes.Status413PayloadTooLarge);
            }
            if (body.Length > 0)
            {
                try
                {
                    using var json = JsonDocument.Parse(body.ToArray());
                    foreach (var property in json.RootElement.EnumerateObject())
                    {
                        fields.Set(property.Name, property.Value.ValueKind switch
                        {
                            JsonValueKind.String => property.Value.GetString(),
                            JsonValueKind.Array => string.Join(',', property.Value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())),
                            JsonValueKind.Null => null,
                            _ => property.Value.GetRawText(),
                        });
                    }
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException)
                {
                    throw new BadHttpRequestException("The request body is not a JSON object.", StatusCodes.Status400BadRequest);
                }
            }
        }
        return fields;
    }

    public string? this[string name] => _fields.TryGetValue(name, out var value) ? value : null;

    public IReadOnlyList<string> List(string name) =>
        this[name]?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    private void Set(string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            _fields[key] = value;
        }
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace ChatHub;

/// <summary>
/// A request's fields as ServiceStack binds them: route, query, then a JSON or form-encoded body; names are
/// case-insensitive and empty values count as absent (the page posts <c>toUserId=</c> for "nobody").
/// </summary>
public sealed class ChatRequest
{
    private const int MaxBody = 64 * 1024;
    private static readonly FormOptions FormLimits = new() { ValueCountLimit = 64, KeyLengthLimit = 256, ValueLengthLimit = MaxBody, MultipartBodyLengthLimit = MaxBody };
    private readonly Dictionary<string, string> _fields = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the request; any oversized or malformed body is a <see cref="BadHttpRequestException"/> with its 4xx status.</summary>
    public static async Task<ChatRequest> ReadAsync(HttpRequest request)
    {
        // Holds for chunked bodies too: the server stops reading at the limit (413).
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBody;
        }
        try
        {
            return await ReadFieldsAsync(request);
        }
        catch (InvalidDataException ex)
        {
            // Too many fields, a value too long, NUL characters, malformed multipart.
            throw new BadHttpRequestException($"The form was refused: {ex.Message}", StatusCodes.Status400BadRequest);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            throw new BadHttpRequestException("The request body ended before it was complete.", StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<ChatRequest> ReadFieldsAsync(HttpRequest request)
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
            foreach (var (key, value) in await request.ReadFormAsync(FormLimits, request.HttpContext.RequestAborted))
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

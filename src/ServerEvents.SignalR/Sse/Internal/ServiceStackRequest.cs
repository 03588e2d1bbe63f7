using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// A request's fields the way ServiceStack binds a DTO: route values, query string, and a JSON or
/// form-encoded body, names case-insensitive; list fields accept arrays and comma-separated text.
/// </summary>
internal sealed class ServiceStackRequest
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the request; throws <see cref="BadRequestException"/> on an oversized or malformed body.</summary>
    public static async Task<ServiceStackRequest> ReadAsync(HttpContext http, int maxBodyBytes)
    {
        var request = http.Request;
        var fields = new ServiceStackRequest();
        foreach (var (key, value) in request.RouteValues)
        {
            if (value?.ToString() is { } text)
            {
                fields.Add(key, text);
            }
        }
        foreach (var (key, values) in request.Query)
        {
            foreach (var value in values)
            {
                fields.Add(key, value ?? "");
            }
        }
        if (request.ContentLength > maxBodyBytes)
        {
            throw new BadRequestException(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {maxBodyBytes} bytes.");
        }
        // Holds for chunked bodies too (no Content-Length): the server stops reading at the limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
        {
            sizeLimit.MaxRequestBodySize = maxBodyBytes;
        }
        try
        {
            await fields.AddBodyAsync(http, maxBodyBytes);
        }
        catch (BadHttpRequestException ex)
        {
            throw new BadRequestException(ex.StatusCode, $"The request body was refused: {ex.Message}");
        }
        catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // A truncated multipart body, or one that ends before its declared length.
            throw new BadRequestException(StatusCodes.Status400BadRequest, "The request body ended before it was complete.");
        }
        return fields;
    }

    private async Task AddBodyAsync(HttpContext http, int maxBodyBytes)
    {
        var request = http.Request;
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { ValueLengthLimit = maxBodyBytes, KeyLengthLimit = 1024, ValueCountLimit = 256 }, http.RequestAborted);
            }
            catch (InvalidDataException ex)
            {
                // Too many fields, a key or value over its limit, or a malformed multipart section.
                throw new BadRequestException(StatusCodes.Status400BadRequest, $"The form was refused: {ex.Message}");
            }
            foreach (var (key, values) in form)
            {
                foreach (var value in values)
                {
                    Add(key, value ?? "");
                }
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = await ReadBodyAsync(request, maxBodyBytes, http.RequestAborted);
            if (body.Length > 0)
            {
                AddJson(body);
            }
        }
    }

    /// <summary>The first value of a field, or null when absent or empty (ServiceStack ignores empty values).</summary>
    public string? Single(string name) =>
        _values.TryGetValue(name, out var values) ? values.FirstOrDefault(v => v.Length > 0) : null;

    /// <summary>All values of a list field, comma lists split, empties dropped.</summary>
    public IReadOnlyList<string> List(string name) =>
        _values.TryGetValue(name, out var values)
            ? [.. values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))]
            : [];

    private void Add(string key, string value)
    {
        if (!_values.TryGetValue(key, out var list))
        {
            _values[key] = list = [];
        }
        list.Add(value);
    }

    private void AddJson(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new BadRequestException(StatusCodes.Status400BadRequest, $"The request body is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            try
            {
                AddJsonObject(document.RootElement);
            }
            catch (InvalidOperationException ex)
            {
                // A string that is not valid UTF-16 once unescaped (a lone surrogate) or not valid UTF-8.
                throw new BadRequestException(StatusCodes.Status400BadRequest, $"The request body has a string that is not valid text: {ex.Message}");
            }
        }
    }

    private void AddJsonObject(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new BadRequestException(StatusCodes.Status400BadRequest, "The request body must be a JSON object.");
        }
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var item in property.Value.EnumerateArray())
                    {
                        Add(property.Name, item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
                    }
                    break;
                case JsonValueKind.String:
                    Add(property.Name, property.Value.GetString()!);
                    break;
                case JsonValueKind.Null:
                case JsonValueKind.Undefined:
                    break;
                default:
                    Add(property.Name, property.Value.GetRawText());
                    break;
            }
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new BadRequestException(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {maxBytes} bytes.");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

/// <summary>A request the subscriber endpoints refuse, with the status and reason to answer.</summary>
internal sealed class BadRequestException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

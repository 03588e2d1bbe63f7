using System.Text.Json;
using Microsoft.AspNetCore.Http;

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
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { ValueLengthLimit = maxBodyBytes, KeyLengthLimit = 1024, ValueCountLimit = 256 }, http.RequestAborted);
            }
            catch (InvalidDataException ex)
            {
                throw new BadRequestException(StatusCodes.Status413PayloadTooLarge, $"The form is too large: {ex.Message}");
            }
            foreach (var (key, values) in form)
            {
                foreach (var value in values)
                {
                    fields.Add(key, value ?? "");
                }
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = await ReadBodyAsync(request, maxBodyBytes, http.RequestAborted);
            if (body.Length > 0)
            {
                fields.AddJson(body);
            }
        }
        return fields;
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
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new BadRequestException(StatusCodes.Status400BadRequest, "The request body must be a JSON object.");
            }
            foreach (var property in document.RootElement.EnumerateObject())
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

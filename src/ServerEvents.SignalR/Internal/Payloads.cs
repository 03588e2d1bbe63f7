using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>Validates selectors and turns messages into the JSON text an envelope carries (once per notify).</summary>
internal sealed class Payloads(IOptions<ServerEventsOptions> options)
{
    private const int MaxSelectorLength = 200;
    // What clients act on as the subscription's own lifecycle; compared without case, as ServiceStack's client does.
    private static readonly HashSet<string> LifecycleSelectors = new(StringComparer.OrdinalIgnoreCase)
    {
        "cmd.onConnect", "cmd.onJoin", "cmd.onLeave", "cmd.onUpdate", "cmd.onHeartbeat", "cmd.onReset",
    };
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ServerEventsOptions _options = options.Value;

    /// <summary>Selector (explicit or <c>cmd.{TypeName}</c>) and JSON text for an object message.</summary>
    public (string Selector, string Json) FromObject(string? selector, object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var resolved = selector ?? DefaultSelector(message.GetType());
        ValidateSelector(resolved);
        RefuseLifecycle(resolved);
        string json;
        try
        {
            json = JsonSerializer.Serialize(message, message.GetType(), _options.JsonSerializerOptions);
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new ArgumentException($"A message of type {message.GetType().Name} cannot be serialized to JSON: {ex.Message}", nameof(message), ex);
        }
        CheckLength(json);
        return (resolved, json);
    }

    /// <summary>Checks pre-serialized JSON; JSON that spans several lines is compacted to one.</summary>
    public string FromJson(string selector, string json)
    {
        ValidateSelector(selector);
        RefuseLifecycle(selector);
        ArgumentNullException.ThrowIfNull(json);
        CheckLength(json);
        if (json.Length == 0)
        {
            return json;
        }
        try
        {
            // Raw CR/LF can only be insignificant whitespace in valid JSON; events travel as one line.
            if (json.AsSpan().IndexOfAny('\r', '\n') >= 0)
            {
                using var document = JsonDocument.Parse(json);
                return Compact(document);
            }
            Validate(json);
            return json;
        }
        catch (Exception ex) when (ex is JsonException or System.Text.EncoderFallbackException)
        {
            // A lone surrogate has no UTF-8 form: refused like any other text that is not JSON.
            throw new ArgumentException($"The message is not well-formed JSON: {ex.Message}", nameof(json), ex);
        }
    }

    public static void ValidateSelector(string? selector)
    {
        if (string.IsNullOrEmpty(selector))
        {
            throw new ArgumentException("Selector must not be empty.", nameof(selector));
        }
        if (selector.Length > MaxSelectorLength)
        {
            throw new ArgumentException($"Selector is {selector.Length} characters long; the limit is {MaxSelectorLength}.", nameof(selector));
        }
        foreach (var c in selector)
        {
            if (c == '@' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new ArgumentException($"Selector '{ChannelNameRules.Printable(selector)}' contains the forbidden character {ChannelNameRules.Describe(c)}.", nameof(selector));
            }
        }
        if (selector.IndexOf('.', StringComparison.Ordinal) <= 0)
        {
            throw new ArgumentException($"Selector '{selector}' must have the form 'op.target', e.g. 'cmd.chat'.", nameof(selector));
        }
    }

    private void RefuseLifecycle(string selector)
    {
        if (!_options.AllowLifecycleSelectors && LifecycleSelectors.Contains(selector))
        {
            throw new ArgumentException(
                $"Selector '{selector}' is a lifecycle event that clients act on; the notify API does not send it (see ServerEventsOptions.AllowLifecycleSelectors).",
                nameof(selector));
        }
    }

    public static string DefaultSelector(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return "cmd." + (tick < 0 ? name : name[..tick]);
    }

    private void CheckLength(string json)
    {
        if (json.Length > _options.MaxMessageLength)
        {
            throw new ArgumentException($"The message is {json.Length} characters of JSON; the limit is {_options.MaxMessageLength}.", nameof(json));
        }
    }

    /// <summary>
    /// Throws a <see cref="JsonException"/> unless <paramref name="json"/> is one well-formed JSON value, as
    /// <c>JsonDocument.Parse</c> would, without building a document (a notify's JSON is read once more here, not kept).
    /// </summary>
    private static void Validate(string json)
    {
        const int OnStack = 512;
        // At most three UTF-8 bytes per UTF-16 character; a longer text gets a pooled buffer of its exact size.
        byte[]? rented = null;
        var utf8 = json.Length < OnStack / 3 ? stackalloc byte[OnStack] : (rented = ArrayPool<byte>.Shared.Rent(StrictUtf8.GetByteCount(json)));
        var length = 0;
        try
        {
            // Strict, as JsonDocument is: a lone surrogate is refused, not replaced.
            length = StrictUtf8.GetBytes(json, utf8);
            // To the end: empty text, an unclosed value or anything after the first value throws.
            var reader = new Utf8JsonReader(utf8[..length]);
            while (reader.Read())
            {
            }
        }
        finally
        {
            if (rented is not null)
            {
                // The message's text does not stay behind in the shared pool.
                rented.AsSpan(0, length).Clear();
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static string Compact(JsonDocument document)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            document.WriteTo(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

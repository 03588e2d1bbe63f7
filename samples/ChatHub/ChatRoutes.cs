using System.Globalization;
using System.Net;
using System.Text.Json;
using ServerEvents;

namespace ChatHub;

/// <summary>ServiceStack Chat's HTTP API, at its routes and at the <c>/api/{DtoName}</c> forms its TS client uses.</summary>
public static class ChatRoutes
{
    public const int MaxMessageLength = 4096;
    public const int MaxHistoryChannels = 50;
    public const string AdminKeyHeader = "X-Admin-Key";

    public static void MapChatRoutes(this IEndpointRouteBuilder app)
    {
        app.Map("/channels/{channel}/chat", PostChatAsync);
        app.Map("/api/PostChatToChannel", PostChatAsync);
        app.Map("/channels/{channel}/raw", PostRawAsync);
        app.Map("/api/PostRawToChannel", PostRawAsync);
        app.Map("/chathistory", GetHistoryAsync);
        app.Map("/api/GetChatHistory", GetHistoryAsync);
        app.Map("/reset", async (IChatHistory history, HttpContext http) =>
        {
            if (AdminRefusal(http) is { } refused)
            {
                return refused;
            }
            await history.ClearAsync(http.RequestAborted);
            return Results.Redirect("/");
        });
        app.Map("/api/ClearChatHistory", async (IChatHistory history, HttpContext http) =>
        {
            if (AdminRefusal(http) is { } refused)
            {
                return refused;
            }
            await history.ClearAsync(http.RequestAborted);
            return Results.NoContent();
        });
        app.Map("/reset-serverevents", ResetServerEventsAsync);
        app.Map("/api/ResetServerEvents", ResetServerEventsAsync);
    }

    private static async Task<IResult> PostChatAsync(HttpContext http, IServerEvents events, IChatHistory history)
    {
        var request = await ChatRequest.ReadAsync(http.Request);
        var (from, failure) = await SenderAsync(request, events, http);
        if (failure is not null)
        {
            return failure;
        }
        var channel = request["channel"] ?? "home";
        var text = request["message"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return Error(StatusCodes.Status400BadRequest, "Message is required.");
        }
        if (text.Length > MaxMessageLength)
        {
            return Error(StatusCodes.Status400BadRequest, $"Message is longer than {MaxMessageLength} characters.");
        }
        var selector = request["selector"] ?? "cmd.chat";
        var toUserId = request["toUserId"];
        var message = new ChatMessage(
            await events.GetNextSequenceAsync("chatMsg", http.RequestAborted),
            channel, from!.UserId, from.DisplayName, WebUtility.HtmlEncode(text), Private: toUserId is not null);
        try
        {
            if (toUserId is null)
            {
                await events.NotifyChannelAsync(channel, selector, message, http.RequestAborted);
                await history.AddAsync(message, http.RequestAborted);
            }
            else
            {
                await events.NotifyUserIdAsync(toUserId, selector, message, cancellationToken: http.RequestAborted);
                // The sender sees a copy addressed to each of the recipient's subscriptions.
                foreach (var target in await events.GetSubscriptionInfosByUserIdAsync(toUserId, http.RequestAborted))
                {
                    var copy = message with { Message = $"@{target.DisplayName}: {message.Message}" };
                    await events.NotifySubscriptionAsync(from.SubscriptionId, selector, copy, cancellationToken: http.RequestAborted);
                }
            }
        }
        catch (ArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        return Results.Json(message, JsonSerializerOptions.Web);
    }

    private static async Task<IResult> PostRawAsync(HttpContext http, IServerEvents events)
    {
        var request = await ChatRequest.ReadAsync(http.Request);
        var (_, failure) = await SenderAsync(request, events, http);
        if (failure is not null)
        {
            return failure;
        }
        var channel = request["channel"] ?? "home";
        var selector = request["selector"];
        if (selector is null)
        {
            return Error(StatusCodes.Status400BadRequest, "Selector is required, e.g. css.background.");
        }
        var text = request["message"];
        if (text?.Length > MaxMessageLength)
        {
            return Error(StatusCodes.Status400BadRequest, $"Message is longer than {MaxMessageLength} characters.");
        }
        var json = text is null ? "" : JsonSerializer.Serialize(WebUtility.HtmlEncode(text));
        try
        {
            if (request["toUserId"] is { } toUserId)
            {
                await events.NotifyUserIdJsonAsync(toUserId, selector, json, cancellationToken: http.RequestAborted);
            }
            else
            {
                await events.NotifyChannelJsonAsync(channel, selector, json, http.RequestAborted);
            }
        }
        catch (ArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        return Results.NoContent();
    }

    private static async Task<IResult> GetHistoryAsync(HttpContext http, IChatHistory history, Microsoft.Extensions.Options.IOptions<ServerEventsOptions> options)
    {
        var request = await ChatRequest.ReadAsync(http.Request);
        var channels = request.List("channels").Distinct(StringComparer.Ordinal).ToList();
        if (channels.Count > MaxHistoryChannels)
        {
            return Error(StatusCodes.Status400BadRequest, $"At most {MaxHistoryChannels} channels per history request.");
        }
        try
        {
            channels.ForEach(c => options.Value.ChannelNames.Validate(c, "channels"));
        }
        catch (ArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        long? afterId = long.TryParse(request["afterId"], NumberStyles.None, CultureInfo.InvariantCulture, out var after) ? after : null;
        var take = int.TryParse(request["take"], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? Math.Clamp(t, 1, 1000) : 100;
        var results = await history.GetAsync(channels.Count == 0 ? ["home"] : channels, afterId, take, http.RequestAborted);
        return Results.Json(new { results }, JsonSerializerOptions.Web);
    }

    private static async Task<IResult> ResetServerEventsAsync(IServerEvents events, HttpContext http)
    {
        if (AdminRefusal(http) is { } refused)
        {
            return refused;
        }
        await events.ResetAsync(http.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<(SubscriptionInfo? From, IResult? Failure)> SenderAsync(ChatRequest request, IServerEvents events, HttpContext http)
    {
        var from = request["from"];
        if (from is null)
        {
            return (null, Error(StatusCodes.Status400BadRequest, "'from' (your subscription id) is required."));
        }
        var info = await events.GetSubscriptionInfoAsync(from, http.RequestAborted);
        return info is null ? (null, Error(StatusCodes.Status404NotFound, $"Subscription {from} does not exist")) : (info, null);
    }

    /// <summary>
    /// The reset routes disconnect everyone and wipe history: allowed in the Development environment, or with the key
    /// given by <c>--admin-key</c> (header <c>X-Admin-Key</c> or <c>?key=</c>); refused otherwise.
    /// </summary>
    private static IResult? AdminRefusal(HttpContext http)
    {
        if (http.RequestServices.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            return null;
        }
        var key = http.RequestServices.GetRequiredService<ChatSettings>().AdminKey;
        var given = http.Request.Headers[AdminKeyHeader].FirstOrDefault() ?? http.Request.Query["key"].FirstOrDefault();
        if (key is not null && given is not null
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(given)))
        {
            return null;
        }
        return Error(StatusCodes.Status403Forbidden, "Resetting needs the admin key (start with --admin-key) or the Development environment.");
    }

    /// <summary>Writes the ServiceStack-shaped error answer outside an endpoint (the error middleware).</summary>
    public static Task WriteErrorAsync(HttpContext http, int status, string message) => Error(status, message).ExecuteAsync(http);

    private static IResult Error(int status, string message) =>
        Results.Json(new { responseStatus = new { errorCode = status == 404 ? "NotFound" : "ArgumentException", message } }, JsonSerializerOptions.Web, statusCode: status);
}

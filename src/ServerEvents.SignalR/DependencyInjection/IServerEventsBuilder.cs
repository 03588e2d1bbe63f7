using Microsoft.AspNetCore.SignalR;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <c>AddServerEvents()</c>: back-ends (<c>AddRedis</c>), the SSE bridge (<c>AddSseBridge</c>) and the app's
/// own extensions hang off it, and <see cref="SignalR"/> carries on with SignalR's builder
/// (<c>.SignalR.AddMessagePackProtocol()</c>).
/// </summary>
public interface IServerEventsBuilder
{
    /// <summary>The app's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>SignalR's builder, from the <c>AddSignalR()</c> that <c>AddServerEvents()</c> made.</summary>
    ISignalRServerBuilder SignalR { get; }

    /// <summary>The hub the Server Events API is bound to: <c>ServerEventsHub</c>, or the app's own from <c>AddServerEvents&lt;THub&gt;()</c>.</summary>
    Type HubType { get; }
}

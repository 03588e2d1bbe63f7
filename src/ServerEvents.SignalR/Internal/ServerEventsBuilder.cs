using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace ServerEvents.Internal;

/// <summary>Registered once per app, so that a second <c>AddServerEvents</c> finds the first.</summary>
internal sealed class ServerEventsBuilder(IServiceCollection services, ISignalRServerBuilder signalR, Type hubType) : IServerEventsBuilder
{
    public IServiceCollection Services { get; } = services;

    public ISignalRServerBuilder SignalR { get; } = signalR;

    public Type HubType { get; } = hubType;
}

using Microsoft.Extensions.DependencyInjection;

namespace ServerEvents;

/// <summary>Returned by <c>AddServerEvents</c>; back-end extensions (such as Redis) hang off it.</summary>
/// <param name="Services">The app's service collection.</param>
/// <param name="HubType">The hub type the Server Events API is bound to.</param>
public sealed record ServerEventsBuilder(IServiceCollection Services, Type HubType);

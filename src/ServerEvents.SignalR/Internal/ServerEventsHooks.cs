using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>
/// Runs the app's <see cref="SubscriptionEvents"/>: the instance in the options, or the <see cref="ServerEventsOptions.EventsType"/>
/// resolved from the connection's scope — or, where a hook runs for no connection, from a scope of its own.
/// </summary>
internal sealed partial class ServerEventsHooks(IOptions<ServerEventsOptions> options, IServiceScopeFactory scopes, IServiceProvider root, ILogger<ServerEventsHooks> logger)
{
    private readonly ServerEventsOptions _options = options.Value;

    /// <summary>
    /// Whether a notify has a publish hook to run: a delegate set on <see cref="ServerEventsOptions.Events"/>, or an events
    /// class that overrides <see cref="SubscriptionEvents.PublishAsync"/>. Decided once, so that without one a notify pays nothing.
    /// </summary>
    public bool HasPublishHook => _hasPublishHook ??= _options.EventsType is { } type
        ? OverridesPublish(type)
        : OverridesPublish(_options.Events.GetType()) || _options.Events.OnPublish != SubscriptionEvents.NoPublish;

    private bool? _hasPublishHook;

    private static bool OverridesPublish(Type events) =>
        events.GetMethod(nameof(SubscriptionEvents.PublishAsync), [typeof(PublishContext)])!.DeclaringType != typeof(SubscriptionEvents);

    public Task RunAsync(IServiceProvider? services, Func<SubscriptionEvents, IServiceProvider, Task> hook) =>
        RunAsync(services, async (events, sp) =>
        {
            await hook(events, sp);
            return true;
        });

    public async Task<T> RunAsync<T>(IServiceProvider? services, Func<SubscriptionEvents, IServiceProvider, Task<T>> hook)
    {
        if (services is not null || _options.EventsType is null)
        {
            services ??= root;
            return await hook(EventsFrom(services), services);
        }
        await using var scope = scopes.CreateAsyncScope();
        return await hook(EventsFrom(scope.ServiceProvider), scope.ServiceProvider);
    }

    /// <summary>Runs a hook whose failure must not undo what already happened (a connection ended): it is logged.</summary>
    public async Task RunLoggedAsync(string hookName, IServiceProvider? services, Func<SubscriptionEvents, IServiceProvider, Task> hook)
    {
        try
        {
            await RunAsync(services, hook);
        }
        catch (Exception ex)
        {
            HookFailed(logger, hookName, ex);
        }
    }

    private SubscriptionEvents EventsFrom(IServiceProvider services) =>
        _options.EventsType is { } type ? (SubscriptionEvents)services.GetRequiredService(type) : _options.Events;

    [LoggerMessage(Level = LogLevel.Error, Message = "The Server Events hook {Hook} failed.")]
    private static partial void HookFailed(ILogger logger, string hook, Exception exception);
}

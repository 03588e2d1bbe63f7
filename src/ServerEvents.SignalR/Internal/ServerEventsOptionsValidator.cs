using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>Checks every invariant of <see cref="ServerEventsOptions"/> at start-up and names each one broken.</summary>
internal sealed class ServerEventsOptionsValidator(IServiceProviderIsService registered) : IValidateOptions<ServerEventsOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerEventsOptions options)
    {
        var failures = new OptionsFailures();

        failures.Require(options.IdleTimeout > TimeSpan.Zero, $"IdleTimeout must be positive (is {options.IdleTimeout}).");
        failures.Require(options.HeartbeatInterval > TimeSpan.Zero, $"HeartbeatInterval must be positive (is {options.HeartbeatInterval}).");
        failures.Require(options.HeartbeatInterval < options.IdleTimeout,
            $"HeartbeatInterval ({options.HeartbeatInterval}) must be shorter than IdleTimeout ({options.IdleTimeout}), or every client expires between two heartbeats.");
        failures.Require(options.HouseKeepingInterval > TimeSpan.Zero, $"HouseKeepingInterval must be positive (is {options.HouseKeepingInterval}).");
        failures.Require(options.MaxChannelsPerSubscription > 0, $"MaxChannelsPerSubscription must be positive (is {options.MaxChannelsPerSubscription}).");
        failures.Require(options.ChannelNames.MaxLength > 0, $"ChannelNames.MaxLength must be positive (is {options.ChannelNames.MaxLength}).");
        failures.Require(options.MaxMessageLength > 0, $"MaxMessageLength must be positive (is {options.MaxMessageLength}).");
        failures.Require(options.HistoryPerTarget >= 0, $"HistoryPerTarget must be 0 or more (is {options.HistoryPerTarget}).");
        failures.Require(options.HistoryMaxAge is null || options.HistoryMaxAge > TimeSpan.Zero, $"HistoryMaxAge must be positive or null (is {options.HistoryMaxAge}).");
        failures.Require(options.MaxConnectionsPerAddress is null or > 0, $"MaxConnectionsPerAddress must be positive or null (is {options.MaxConnectionsPerAddress}).");
        failures.Require(options.SilentConnectionTimeout is null || options.SilentConnectionTimeout > TimeSpan.Zero,
            $"SilentConnectionTimeout must be positive or null (is {options.SilentConnectionTimeout}).");
        failures.Require(options.JsonSerializerOptions is not null, "JsonSerializerOptions must be set.");
        failures.Require(options.Events is not null, "Events must be set.");
        failures.Require(options.EventsType is null || typeof(SubscriptionEvents).IsAssignableFrom(options.EventsType),
            $"EventsType {options.EventsType?.Name} must derive from SubscriptionEvents.");
        failures.Require(options.EventsType is null || registered.IsService(options.EventsType),
            $"EventsType {options.EventsType?.Name} is not registered: add services.AddScoped<{options.EventsType?.Name}>() (or AddSingleton).");
        try
        {
            options.ChannelNames.PatternRegex();
        }
        catch (ArgumentException ex)
        {
            failures.Add($"ChannelNames.Pattern '{options.ChannelNames.Pattern}' is not a valid regular expression: {ex.Message}");
        }
        return failures.Result;
    }
}

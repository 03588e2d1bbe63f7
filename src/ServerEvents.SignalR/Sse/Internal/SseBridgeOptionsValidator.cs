using Microsoft.Extensions.Options;
using ServerEvents.Internal;

namespace ServerEvents.Sse.Internal;

/// <summary>Checks <see cref="SseBridgeOptions"/> at start-up and names each broken setting.</summary>
internal sealed class SseBridgeOptionsValidator : IValidateOptions<SseBridgeOptions>
{
    public ValidateOptionsResult Validate(string? name, SseBridgeOptions options)
    {
        var failures = new OptionsFailures();

        var paths = new (string Name, string? Value)[]
        {
            (nameof(options.StreamPath), options.StreamPath),
            (nameof(options.HeartbeatPath), options.HeartbeatPath),
            (nameof(options.UnRegisterPath), options.UnRegisterPath),
            (nameof(options.SubscribersPath), options.SubscribersPath),
        };
        foreach (var (setting, path) in paths.Where(p => SseBridgeOptions.IsOn(p.Value)))
        {
            failures.Require(path![0] == '/' && !path.Contains('?', StringComparison.Ordinal) && !path.Contains('{', StringComparison.Ordinal),
                $"{setting} '{path}' must be a plain path starting with '/' (or null to turn the endpoint off).");
        }
        foreach (var duplicate in paths.Where(p => SseBridgeOptions.IsOn(p.Value)).GroupBy(p => p.Value, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            failures.Add($"{string.Join(" and ", duplicate.Select(p => p.Name))} are both '{duplicate.Key}'.");
        }
        foreach (var prefix in options.RoutePrefixes)
        {
            failures.Require(prefix is ['/', ..], $"ServiceRoutePrefixes entry '{prefix}' must start with '/'.");
        }
        foreach (var duplicate in options.RoutePrefixes.GroupBy(p => p.TrimEnd('/'), StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            failures.Add($"ServiceRoutePrefixes names '{duplicate.Key}' more than once.");
        }
        failures.Require(options.MaxRequestBodyBytes > 0, $"MaxRequestBodyBytes must be positive (is {options.MaxRequestBodyBytes}).");
        failures.Require(options.MaxUnsentBytesPerStream > 0, $"MaxUnsentBytesPerStream must be positive (is {options.MaxUnsentBytesPerStream}).");
        failures.Require(options.MaxSubscribersListed > 0, $"MaxSubscribersListed must be positive (is {options.MaxSubscribersListed}).");
        failures.Require(options.MaxStreamsPerUser is null or > 0, $"MaxStreamsPerUser must be positive or null (is {options.MaxStreamsPerUser}).");
        failures.Require(options.SubscriberListsPerSecond is null or > 0, $"SubscriberListsPerSecond must be positive or null (is {options.SubscriberListsPerSecond}).");
        failures.Require(options.KeepAliveInterval > TimeSpan.Zero, $"KeepAliveInterval must be positive (is {options.KeepAliveInterval}).");
        return failures.Result;
    }
}

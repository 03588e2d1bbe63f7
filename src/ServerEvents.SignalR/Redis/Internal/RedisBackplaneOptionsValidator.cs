using Microsoft.Extensions.Options;
using ServerEvents.Internal;

namespace ServerEvents.Redis.Internal;

/// <summary>Checks <see cref="RedisBackplaneOptions"/> at start-up and names each broken setting.</summary>
internal sealed class RedisBackplaneOptionsValidator : IValidateOptions<RedisBackplaneOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        var failures = new OptionsFailures();
        failures.Require(options.Configuration is not null || options.ConnectionFactory is not null, "Configuration or ConnectionFactory must be set.");
        failures.Require(!string.IsNullOrWhiteSpace(options.Prefix) && !options.Prefix.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)),
            $"Prefix '{options.Prefix}' must be non-empty, without whitespace or control characters.");
        failures.Require(options.AckTimeout > TimeSpan.Zero, $"AckTimeout must be positive (is {options.AckTimeout}).");
        failures.Require(options.MaxPendingBytesPerConnection > 0, $"MaxPendingBytesPerConnection must be positive (is {options.MaxPendingBytesPerConnection}).");
        failures.Require(options.MaxBufferedNotifications >= 0, $"MaxBufferedNotifications must be 0 or more (is {options.MaxBufferedNotifications}).");
        return failures.Result;
    }
}

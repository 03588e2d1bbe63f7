namespace ServerEvents;

/// <summary>
/// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> Server Events reports on, for
/// <c>AddMeter(ServerEventsMeter.Name)</c> in OpenTelemetry or a <c>MeterListener</c>. Every instrument, its unit and
/// what to alert on are listed in docs/operations.md.
/// </summary>
public static class ServerEventsMeter
{
    /// <summary><c>ServerEvents</c>.</summary>
    public const string Name = "ServerEvents";
}

using System.Globalization;

namespace ServerEvents.LoadDriver;

/// <summary>One markdown table row per result: the driver's console output and the report's tables.</summary>
public static class ResultTable
{
    public const string Header =
        "| kind | back-end | servers | transport | history | subscribers | notifies | rate | delivered/s | p50 ms | p90 ms | p99 ms | max ms | lost | dup | out of order | server CPU µs/delivery | server alloc B/delivery | server JIT % | driver CPU µs/delivery | Redis CPU µs/notify | machine busy % | Redis cmds/notify | server RSS MB | KB/conn (managed) | KB/conn (RSS) |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    public static string Row(Result r)
    {
        var s = r.Scenario;
        return string.Join(" | ",
            "| " + s.Kind, s.Backend, s.Servers, s.Transport, s.History ? "on" : "off", s.Subscribers.ToString("N0", CultureInfo.InvariantCulture), s.PerSubscriber * s.Targets, s.RateText,
            F(r.DeliveredPerSecond, "N0"), F(r.P50), F(r.P90), F(r.P99), F(r.Max),
            r.Lost, r.Duplicates, r.OutOfOrder,
            F(r.ServerCpuMicrosPerDelivery), F(r.ServerAllocatedBytesPerDelivery, "0"), F(r.ServerJitPercent), F(r.DriverCpuMicrosPerDelivery), r.RedisCpuMicrosPerNotify is { } rc ? F(rc) : "–", F(r.MachineBusyPercent, "0"),
            r.RedisCommandsPerNotify is { } c ? F(c, "0.00") : "–",
            F(r.ServerWorkingSetMB, "0"), F(r.ManagedBytesPerConnection / 1024), F(r.WorkingSetBytesPerConnection / 1024)) + " |";
    }

    public static string F(double value, string format = "0.0") =>
        double.IsNaN(value) || double.IsInfinity(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
}

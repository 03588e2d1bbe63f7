using System.Globalization;

namespace ServerEvents.LoadDriver;

/// <summary>
/// How busy the whole machine was (all cores, every process: servers, driver, redis-server, kernel), from
/// /proc/stat. Latency figures mean little without it: on a saturated machine they measure queueing.
/// </summary>
public static class MachineCpu
{
    public readonly record struct Sample(long Busy, long Total);

    public static Sample Read()
    {
        if (!File.Exists("/proc/stat"))
        {
            return default;
        }
        // cpu  user nice system idle iowait irq softirq steal …
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Take(8).Sum();
        var idle = fields[3] + fields[4];
        return new Sample(total - idle, total);
    }

    /// <summary>CPU time of the driver process itself (its subscribers' receive loops), in ms.</summary>
    public static double DriverMs()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalMilliseconds;
    }

    public static double BusyPercentSince(Sample before)
    {
        var now = Read();
        var total = now.Total - before.Total;
        return total <= 0 ? double.NaN : 100.0 * (now.Busy - before.Busy) / total;
    }
}

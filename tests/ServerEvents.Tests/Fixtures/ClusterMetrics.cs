using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace ServerEvents.Tests.Fixtures;

/// <summary>Reads the <c>ServerEvents</c> meter of every server of a test cluster.</summary>
public static class ClusterMetrics
{
    /// <summary>Starts collecting <paramref name="instrument"/> on every server.</summary>
    public static ClusterMetrics<T> Of<T>(TestCluster cluster, string instrument)
        where T : struct =>
        new([.. Enumerable.Range(0, cluster.Count).Select(i =>
            new MetricCollector<T>(cluster[i].Services.GetRequiredService<IMeterFactory>(), ServerEventsMeter.Name, instrument))]);
}

/// <summary>One instrument's measurements on every server of a test cluster.</summary>
public sealed class ClusterMetrics<T>(IReadOnlyList<MetricCollector<T>> servers) : IDisposable
    where T : struct
{
    public IReadOnlyList<ServerMetrics<T>> Servers { get; } = [.. servers.Select(c => new ServerMetrics<T>(c))];

    public IEnumerable<CollectedMeasurement<T>> All => Servers.SelectMany(s => s.Measurements);

    public double Sum(string? tag = null, string? value = null) => Servers.Sum(s => s.Sum(tag, value));

    public void RecordObservable()
    {
        foreach (var collector in servers)
        {
            collector.RecordObservableInstruments();
        }
    }

    public void Dispose()
    {
        foreach (var collector in servers)
        {
            collector.Dispose();
        }
    }
}

/// <summary>One instrument's measurements on one server.</summary>
public sealed class ServerMetrics<T>(MetricCollector<T> collector)
    where T : struct
{
    public IReadOnlyList<CollectedMeasurement<T>> Measurements => collector.GetMeasurementSnapshot();

    public IEnumerable<double> Values() => Measurements.Select(m => Convert.ToDouble(m.Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The sum of the measurements, of those with that tag value only if one is named.</summary>
    public double Sum(string? tag = null, string? value = null) =>
        Measurements.Where(m => tag is null || Equals(m.Tags.GetValueOrDefault(tag), value))
            .Sum(m => Convert.ToDouble(m.Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The last observed value, of the series with that tag value if one is named.</summary>
    public double Last(string? tag = null, string? value = null) =>
        Convert.ToDouble(Measurements.Last(m => tag is null || Equals(m.Tags.GetValueOrDefault(tag), value)).Value, System.Globalization.CultureInfo.InvariantCulture);
}

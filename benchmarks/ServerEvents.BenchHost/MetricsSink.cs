using System.Diagnostics.Metrics;

namespace ServerEvents.BenchHost;

/// <summary>
/// With <c>SERVEREVENTS_BENCH_METRICS=1</c>: listens to every instrument of the ServerEvents meter and adds up what
/// they report, as an exporter's aggregation would — so a run can measure what observed metrics cost the servers.
/// </summary>
internal sealed class MetricsSink : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    private MetricsSink()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServerEventsMeter.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Interlocked.Add(ref _total, (long)(value * 1e6)));
        _listener.Start();
    }

    public static MetricsSink? FromEnvironment() =>
        Environment.GetEnvironmentVariable("SERVEREVENTS_BENCH_METRICS") == "1" ? new MetricsSink() : null;

    public void Dispose() => _listener.Dispose();
}

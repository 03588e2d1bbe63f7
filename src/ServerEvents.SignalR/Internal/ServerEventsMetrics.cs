using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using ServerEvents.Redis.Internal;

namespace ServerEvents.Internal;

/// <summary>
/// Every instrument of the <see cref="ServerEventsMeter.Name"/> meter, created through the app's
/// <see cref="IMeterFactory"/> (one meter per app, as ASP.NET Core's own), with OpenTelemetry-style names and units.
/// The list with meanings and alerts is docs/operations.md; a change here changes that page.
/// </summary>
internal sealed class ServerEventsMetrics
{
    public const string Hub = "hub";
    public const string Sse = "sse";

    private const string TransportTag = "serverevents.transport";
    private readonly UpDownCounter<long> _connections;
    private readonly UpDownCounter<long> _subscriptions;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _notifies;
    private readonly Histogram<int> _eventSize;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _resets;
    private readonly Counter<long> _slowClosed;
    private readonly Histogram<double> _redisDuration;
    private RedisBackplane? _redis;

    public ServerEventsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServerEventsMeter.Name);
        _connections = meter.CreateUpDownCounter<long>("serverevents.connections", "{connection}",
            "Open client connections (hub connections after the guard let them in, SSE streams).");
        _subscriptions = meter.CreateUpDownCounter<long>("serverevents.subscriptions", "{subscription}",
            "Subscriptions this server owns: from their registration (just before cmd.onConnect) until they are removed.");
        _refusals = meter.CreateCounter<long>("serverevents.refusals", "{refusal}",
            "Client requests or connections refused by a limit or a rule (the rule is the serverevents.rule tag).");
        _notifies = meter.CreateCounter<long>("serverevents.notifies", "{notify}",
            "Notify calls made on this server, by target kind.");
        _eventSize = meter.CreateHistogram<int>("serverevents.event.size", "By",
            "Size of each notified event's JSON body, in UTF-8 bytes.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576] });
        _deliveries = meter.CreateCounter<long>("serverevents.deliveries", "{event}",
            "Events handed to this server's connections (one per recipient).");
        _resumes = meter.CreateCounter<long>("serverevents.resumes", "{connection}",
            "Connections that came back with a last event id, by outcome (complete replay, or a reset).");
        _replayed = meter.CreateCounter<long>("serverevents.replayed_events", "{event}",
            "Events replayed from history to resuming or back-filled connections.");
        _resets = meter.CreateCounter<long>("serverevents.resets", "{reset}",
            "cmd.onReset events sent: history no longer reached back (too_old) or an outage cut it (cut_off).");
        _slowClosed = meter.CreateCounter<long>("serverevents.slow_client.closes", "{connection}",
            "Connections closed because they fell too far behind the events sent to them.");
        _redisDuration = meter.CreateHistogram<double>("serverevents.redis.duration", "s",
            "Round trip of each Redis script call, by script.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5] });
        meter.CreateObservableGauge("serverevents.redis.connected", ObserveConnected, "{connection}",
            "1 while the Redis connection is up, by role: command (notifies, presence) and pubsub (this server's inbox is read).");
        meter.CreateObservableUpDownCounter("serverevents.redis.buffered_notifies", () => ObserveRedis(r => r.Buffer.Count),
            "{notify}", "Notifies waiting in this server's outage buffer for Redis to come back.");
        meter.CreateObservableCounter("serverevents.redis.refused_notifies", () => ObserveRedis(r => r.Buffer.Refused),
            "{notify}", "Notifies refused because the outage buffer was full (RedisBackplaneOptions.MaxBufferedNotifications).");
        meter.CreateObservableUpDownCounter("serverevents.redis.awaiting_backfill", () => ObserveRedis(r => (long)r.AwaitingBackfill),
            "{connection}", "Connections held until what they missed while the inbox was not read is replayed to them.");
    }

    /// <summary>The Redis back-end, once it exists: its state is observed, not pushed.</summary>
    public void Observe(RedisBackplane redis) => _redis = redis;

    /// <summary>"sse" for the SSE bridge's connections (marked with <see cref="SseTransportMarker"/>), "hub" for the rest.</summary>
    public static string TransportOf(HubCallerContext context) => TransportOf(context.Features);

    /// <inheritdoc cref="TransportOf(HubCallerContext)"/>
    public static string TransportOf(IFeatureCollection features) => features.Get<SseTransportMarker>() is null ? Hub : Sse;

    public void ConnectionOpened(string transport) => _connections.Add(1, new KeyValuePair<string, object?>(TransportTag, transport));

    public void ConnectionClosed(string transport) => _connections.Add(-1, new KeyValuePair<string, object?>(TransportTag, transport));

    public void SubscriptionAdded(string transport) => _subscriptions.Add(1, new KeyValuePair<string, object?>(TransportTag, transport));

    public void SubscriptionRemoved(string transport) => _subscriptions.Add(-1, new KeyValuePair<string, object?>(TransportTag, transport));

    /// <param name="rule">A constant naming the rule (a small set), never a client's value.</param>
    public void Refused(string rule) => _refusals.Add(1, new KeyValuePair<string, object?>("serverevents.rule", rule));

    /// <param name="target">all, channel, channels, user_id, user_name, session or subscription.</param>
    /// <param name="json">The event's body.</param>
    public void Notified(string target, string json)
    {
        _notifies.Add(1, new KeyValuePair<string, object?>("serverevents.target", target));
        if (_eventSize.Enabled)
        {
            _eventSize.Record(System.Text.Encoding.UTF8.GetByteCount(json));
        }
    }

    /// <summary>Whether anything listens to <c>serverevents.deliveries</c> (counting recipients costs a lookup per send).</summary>
    public bool DeliveriesObserved => _deliveries.Enabled;

    public void Delivered(int recipients)
    {
        if (recipients > 0)
        {
            _deliveries.Add(recipients);
        }
    }

    public void Resumed(History.Replay replay)
    {
        _resumes.Add(1, new KeyValuePair<string, object?>("serverevents.resume.outcome", replay.Complete ? "complete" : "reset"));
        Replayed(replay, "too_old");
    }

    /// <summary>A replay sent to a connection: its events, and its reset if it has one.</summary>
    public void Replayed(History.Replay replay, string resetReason)
    {
        if (replay.Events.Count > 0)
        {
            _replayed.Add(replay.Events.Count);
        }
        if (!replay.Complete)
        {
            _resets.Add(1, new KeyValuePair<string, object?>("serverevents.reset.reason", resetReason));
        }
    }

    public void SlowClientClosed(string transport) => _slowClosed.Add(1, new KeyValuePair<string, object?>(TransportTag, transport));

    public void RedisCall(string script, long startTimestamp) =>
        _redisDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("serverevents.redis.script", script));

    /// <summary>One measurement on the Redis back-end, none on memory (the instrument then reports nothing).</summary>
    private IEnumerable<Measurement<T>> ObserveRedis<T>(Func<RedisBackplane, T> read)
        where T : struct =>
        _redis is { } redis ? [new Measurement<T>(read(redis))] : [];

    private IEnumerable<Measurement<int>> ObserveConnected()
    {
        if (_redis is not { } redis)
        {
            return [];
        }
        return
        [
            new(redis.IsConnected ? 1 : 0, new KeyValuePair<string, object?>("serverevents.redis.connection", "command")),
            new(redis.InboxLive ? 1 : 0, new KeyValuePair<string, object?>("serverevents.redis.connection", "pubsub")),
        ];
    }
}

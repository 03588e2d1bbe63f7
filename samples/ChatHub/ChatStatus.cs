using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using ServerEvents;
using StackExchange.Redis;

namespace ChatHub;

/// <summary>
/// What /status shows of one instance, read from the <c>ServerEvents</c> meter the way a dashboard reads it (a
/// <see cref="MeterListener"/>, no private API): once a second it takes subscriptions, deliveries and notifies per
/// second and the Redis state, keeps the last minute, and on Redis shares it with the other instances in one hash.
/// </summary>
public sealed class ChatStatus : BackgroundService
{
    private const int Seconds = 60;
    private static readonly RedisKey SharedKey = "chat:status";
    // An instance that has not written for this long is gone (stopped or killed) and drops off the page.
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(5);

    private readonly MeterListener _listener = new();
    private readonly ILogger<ChatStatus> _logger;
    private readonly IConnectionMultiplexer? _redis;
    private readonly string _url;
    private readonly Lock _gate = new();
    private readonly Queue<(long Deliveries, long Notifies, long Subscriptions)> _history = new();
    private long _deliveries;
    private long _notifies;
    private long _hubSubscriptions;
    private long _sseSubscriptions;
    private int _commandUp = -1;
    private int _pubSubUp = -1;
    private int _buffered;
    private readonly string _serverId;

    public ChatStatus(IMeterFactory meterFactory, IServerEvents serverEvents, ChatSettings settings, IServiceProvider services, ILogger<ChatStatus> logger)
    {
        _serverId = serverEvents.ServerId;
        _logger = logger;
        _redis = settings.Redis is null ? null : services.GetRequiredService<IConnectionMultiplexer>();
        _url = $"http://127.0.0.1:{settings.Port}/";
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this app's meter: tests may run several apps in one process, each with its own factory.
            if (instrument.Meter.Name == ServerEventsMeter.Name && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument.Name, value, tags));
        _listener.Start();
    }

    /// <summary>This instance's card, and on Redis every live instance's, as /status.json serves them.</summary>
    public async Task<JsonObject> ReadAsync()
    {
        var servers = new JsonArray();
        string? redisError = null;
        if (_redis is not null)
        {
            try
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var database = _redis.GetDatabase();
                foreach (var entry in await database.HashGetAllAsync(SharedKey))
                {
                    var card = JsonNode.Parse((string)entry.Value!)!.AsObject();
                    if (now - (long)card["updatedAt"]! >= Stale.TotalMilliseconds)
                    {
                        // Gone (stopped or killed): its card is removed, so the hash does not grow with every restart.
                        await database.HashDeleteAsync(SharedKey, entry.Name);
                    }
                    else if ((string?)card["serverId"] != _serverId)
                    {
                        servers.Add(card);
                    }
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // The other instances are out of sight while Redis is: this one is still shown, with the reason.
                redisError = ex.Message;
            }
        }
        // This instance from memory, always: it is fresher than its shared copy and shown when Redis is not.
        servers.Add(Snapshot());
        return new JsonObject
        {
            ["self"] = _serverId,
            ["backend"] = _redis is null ? "memory" : "redis",
            ["redisError"] = redisError,
            ["servers"] = servers,
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            // The status view must never take the chat down: a failed round is logged and the next one tried.
            try
            {
                _listener.RecordObservableInstruments();
                Sample();
                if (_redis is not null)
                {
                    await ShareAsync(_redis.GetDatabase());
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogWarning(ex, "Status sampling failed; trying again in a second.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    private void OnMeasurement(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "serverevents.deliveries":
                Interlocked.Add(ref _deliveries, value);
                break;
            case "serverevents.notifies":
                Interlocked.Add(ref _notifies, value);
                break;
            case "serverevents.subscriptions":
                Interlocked.Add(ref Tag(tags, "serverevents.transport") == "sse" ? ref _sseSubscriptions : ref _hubSubscriptions, value);
                break;
            case "serverevents.redis.connected":
                if (Tag(tags, "serverevents.redis.connection") == "pubsub")
                {
                    _pubSubUp = (int)value;
                }
                else
                {
                    _commandUp = (int)value;
                }
                break;
            case "serverevents.redis.buffered_notifies":
                _buffered = (int)value;
                break;
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }
        return null;
    }

    private void Sample()
    {
        lock (_gate)
        {
            _history.Enqueue((Interlocked.Read(ref _deliveries), Interlocked.Read(ref _notifies), Interlocked.Read(ref _hubSubscriptions) + Interlocked.Read(ref _sseSubscriptions)));
            // One more than shown: each per-second figure is the difference of two samples.
            while (_history.Count > Seconds + 1)
            {
                _history.Dequeue();
            }
        }
    }

    private JsonObject Snapshot()
    {
        (long Deliveries, long Notifies, long Subscriptions)[] samples;
        lock (_gate)
        {
            samples = [.. _history];
        }
        var pairs = samples.Zip(samples.Skip(1)).ToList();
        return new JsonObject
        {
            ["serverId"] = _serverId,
            ["url"] = _url,
            ["updatedAt"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["subscriptions"] = new JsonObject { ["hub"] = Interlocked.Read(ref _hubSubscriptions), ["sse"] = Interlocked.Read(ref _sseSubscriptions) },
            ["deliveriesPerSecond"] = new JsonArray([.. pairs.Select(p => JsonValue.Create(p.Second.Deliveries - p.First.Deliveries))]),
            ["notifiesPerSecond"] = new JsonArray([.. pairs.Select(p => JsonValue.Create(p.Second.Notifies - p.First.Notifies))]),
            ["subscriptionsHistory"] = new JsonArray([.. samples.Skip(1).Select(s => JsonValue.Create(s.Subscriptions))]),
            ["redis"] = _redis is null ? null : new JsonObject
            {
                ["command"] = _commandUp == 1 ? "up" : "down",
                ["pubsub"] = _pubSubUp == 1 ? "up" : "down",
                ["bufferedNotifies"] = _buffered,
            },
        };
    }

    private async Task ShareAsync(IDatabase database)
    {
        try
        {
            var card = Snapshot().ToJsonString();
            await database.HashSetAsync(SharedKey, _serverId, card);
            await database.KeyExpireAsync(SharedKey, TimeSpan.FromMinutes(1));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is down: the page then shows this instance alone (served from memory) until it is back.
        }
    }
}

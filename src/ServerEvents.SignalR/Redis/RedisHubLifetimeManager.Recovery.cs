using Microsoft.Extensions.Logging;
using ServerEvents.Redis.Internal;
using StackExchange.Redis;

namespace ServerEvents.Redis;

/// <summary>
/// Keeping this server's inbox read: a loss (its connection failed, a gap in its sequence numbers, Redis lost data, the
/// subscription ended) holds every local connection; the recovery writes the routes again, subscribes again if it must,
/// and probes the inbox until a probe comes through — then everything sent from then on arrives, and the held
/// connections are back-filled.
/// </summary>
internal sealed partial class RedisHubLifetimeManager<THub>
{
    private static readonly TimeSpan ProbeWaitLimit = TimeSpan.FromSeconds(5);
    private readonly Lock _inboxGate = new();
    // All under _inboxGate. Completed while the inbox is read; a pending one from a loss until a probe came through.
    private TaskCompletionSource _inboxRead = Completed();
    // Bumped by every loss: a recovery goes live only if none came while it probed.
    private long _inboxGeneration;
    private bool _recovering;
    // Probes with a nonce from here on were sent after the latest loss: any of them arriving proves the inbox is read.
    private long _probeFloor;
    private TaskCompletionSource _probeArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastProbe;

    /// <summary>
    /// Redis data loss seen by housekeeping (this server's liveness key was gone): routes may be gone too, so what is
    /// sent may no longer reach this server. Handled as a lost inbox.
    /// </summary>
    internal void OnRedisDataLost() => InboxLost();

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (CarriesInbox(e))
        {
            InboxLost();
        }
    }

    /// <summary>
    /// Whether the failed connection is the one this server's inbox comes on: the subscription connection to the node
    /// that holds it (on RESP3 pub/sub shares the interactive connection). Another node's failure is not a loss — and
    /// if one is missed anyway, the next message's sequence number tells.
    /// </summary>
    private bool CarriesInbox(ConnectionFailedEventArgs e)
    {
        var multiplexer = _backplane.Multiplexer;
        var pubSub = e.ConnectionType == ConnectionType.Subscription
            || (e.ConnectionType == ConnectionType.Interactive && multiplexer.GetServers().Any(s => s.Protocol == RedisProtocol.Resp3));
        if (!pubSub)
        {
            return false;
        }
        var subscribed = multiplexer.GetSubscriber().SubscribedEndpoint(_backplane.Inbox(_serverId));
        return subscribed is null || EndPointCollection.ToString(subscribed) == EndPointCollection.ToString(e.EndPoint);
    }

    /// <summary>
    /// What is sent to this server's inbox may not be arriving, or did not arrive: hold every local connection and
    /// recover in the background.
    /// </summary>
    private void InboxLost()
    {
        bool start;
        lock (_inboxGate)
        {
            _inboxGeneration++;
            _backplane.InboxLive = false;
            if (_inboxRead.Task.IsCompleted)
            {
                _inboxRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            _probeFloor = Interlocked.Read(ref _lastProbe) + 1;
            if (_probeArrived.Task.IsCompleted)
            {
                _probeArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            start = !_recovering;
            _recovering = true;
        }
        OnPubSubLost();
        if (start)
        {
            _ = Task.Run(RecoverAsync);
        }
    }

    /// <summary>Until this server reads its inbox again (see the type's summary); then back-fills the held connections.</summary>
    private async Task RecoverAsync()
    {
        var delay = DrainRetryDelay;
        var wait = TimeSpan.FromSeconds(1);
        while (!_disposed.IsCancellationRequested)
        {
            long generation;
            Task arrived;
            lock (_inboxGate)
            {
                generation = _inboxGeneration;
                arrived = _probeArrived.Task;
            }
            try
            {
                await EnsureInboxSubscribedAsync(_disposed.Token);
                await RestoreRoutesAsync(_disposed.Token);
                var nonce = Interlocked.Increment(ref _lastProbe);
                if (await SendToAsync(Routes.Server(_serverId), BackplaneProtocol.WriteProbe(nonce), _disposed.Token) > 0)
                {
                    // Any probe of this recovery will do, a late one from an earlier attempt too: the loop may be busy.
                    await arrived.WaitAsync(wait, _disposed.Token);
                    if (GoLive(generation))
                    {
                        await OnPubSubBackAsync();
                        return;
                    }
                    continue;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (TimeoutException)
            {
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, ProbeWaitLimit.Ticks));
            }
            catch (Exception ex)
            {
                // Redis not answering yet, or anything else: this loop must not die with connections held.
                RedisLog.BackFillFailed(_logger, ex.Message);
            }
            if (await BackOffAsync(delay) is not { } next)
            {
                return;
            }
            delay = next;
        }
    }

    /// <summary>Marks the inbox read, unless it was lost again since <paramref name="generation"/>.</summary>
    private bool GoLive(long generation)
    {
        TaskCompletionSource read;
        lock (_inboxGate)
        {
            if (generation != _inboxGeneration)
            {
                return false;
            }
            _backplane.InboxLive = true;
            _recovering = false;
            read = _inboxRead;
        }
        read.TrySetResult();
        return true;
    }

    /// <summary>Waits <paramref name="delay"/> before a retry; the next, doubled delay (at most a second), or null once disposed.</summary>
    private async Task<TimeSpan?> BackOffAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _disposed.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        return TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
    }

    /// <summary>Waits until this server reads its inbox (at most the ack timeout); throws <see cref="RedisUnreachableException"/> if it does not.</summary>
    private async Task InboxReadAsync(string joining)
    {
        Task read;
        lock (_inboxGate)
        {
            read = _inboxRead.Task;
        }
        if (read.IsCompleted)
        {
            return;
        }
        try
        {
            await read.WaitAsync(_backplane.Options.AckTimeout);
        }
        catch (TimeoutException)
        {
            throw new RedisUnreachableException($"Cannot join '{joining}': this server's inbox at Redis {_backplane.EndPoint} is not being read (connection lost).");
        }
    }

    private void ProbeArrived(long nonce)
    {
        TaskCompletionSource? arrived = null;
        lock (_inboxGate)
        {
            if (nonce >= _probeFloor)
            {
                arrived = _probeArrived;
            }
        }
        arrived?.TrySetResult();
    }

    /// <summary>
    /// Subscribes the inbox and starts reading it; then sends itself a probe and waits for it, so that a server whose
    /// inbox cannot reach it (a channel prefix it does not know of, say) fails its start instead of going deaf.
    /// </summary>
    private async Task StartInboxAsync(CancellationToken cancellationToken)
    {
        Task arrived;
        lock (_inboxGate)
        {
            arrived = _probeArrived.Task;
        }
        await EnsureInboxSubscribedAsync(cancellationToken);
        await SendToAsync(Routes.Server(_serverId), BackplaneProtocol.WriteProbe(Interlocked.Increment(ref _lastProbe)), cancellationToken);
        try
        {
            await arrived.WaitAsync(ProbeWaitLimit, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new RedisUnreachableException(
                $"This server's inbox at Redis {_backplane.EndPoint} did not receive its own probe within {ProbeWaitLimit.TotalSeconds:0} s " +
                "(sharded pub/sub not reaching it: a proxy in the way, or a channel prefix this back-end was not told of?).");
        }
    }

    /// <summary>Subscribes the inbox if it is not (first start, or its subscription was ended under us), and watches it end.</summary>
    private async Task EnsureInboxSubscribedAsync(CancellationToken cancellationToken)
    {
        if (_inbox is { Completion.IsCompleted: false })
        {
            return;
        }
        var inbox = await SubscribeInboxAsync(_backplane.Multiplexer, cancellationToken);
        inbox.OnMessage(OnInboxMessage);
        _inbox = inbox;
        // UnsubscribeAll on a shared multiplexer (another backplane shutting down, say) ends our queue too.
        _ = inbox.Completion.ContinueWith(_ =>
        {
            if (!_disposed.IsCancellationRequested)
            {
                RedisLog.InboxEnded(_logger);
                InboxLost();
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static TaskCompletionSource Completed()
    {
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        completed.SetResult();
        return completed;
    }
}

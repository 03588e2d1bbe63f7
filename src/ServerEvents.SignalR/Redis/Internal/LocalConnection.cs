using Microsoft.AspNetCore.SignalR;

namespace ServerEvents.Redis.Internal;

/// <summary>A connection this server owns, with the groups it is in and its count of writes not yet flushed.</summary>
internal sealed class LocalConnection(HubConnectionContext context)
{
    private readonly HashSet<string> _groups = new(StringComparer.Ordinal);
    private int _pendingWrites;

    public HubConnectionContext Context { get; } = context;

    public string Id => Context.ConnectionId;

    public string[] Groups
    {
        get
        {
            lock (_groups)
            {
                return [.. _groups];
            }
        }
    }

    public void Joined(string group)
    {
        lock (_groups)
        {
            _groups.Add(group);
        }
    }

    public void Left(string group)
    {
        lock (_groups)
        {
            _groups.Remove(group);
        }
    }

    /// <summary>
    /// Queues a write without waiting for it, so a slow client never delays the others. Returns false
    /// (and closes the connection) when too many writes are already waiting: that client cannot keep up.
    /// </summary>
    public bool TryWrite(SerializedHubMessage message, int maxPending)
    {
        if (Interlocked.Increment(ref _pendingWrites) > maxPending)
        {
            Interlocked.Decrement(ref _pendingWrites);
            Context.Abort();
            return false;
        }
        ValueTask write;
        try
        {
            write = Context.WriteAsync(message);
        }
        catch (Exception)
        {
            Interlocked.Decrement(ref _pendingWrites);
            return true;
        }
        if (write.IsCompleted)
        {
            Interlocked.Decrement(ref _pendingWrites);
            ObserveFault(write);
        }
        else
        {
            _ = CompleteAsync(write);
        }
        return true;
    }

    private async Task CompleteAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        catch (Exception)
        {
            // The connection is closing; SignalR reports it through OnDisconnectedAsync.
        }
        finally
        {
            Interlocked.Decrement(ref _pendingWrites);
        }
    }

    private static void ObserveFault(ValueTask write)
    {
        if (write.IsFaulted)
        {
            _ = write.AsTask().Exception;
        }
    }
}

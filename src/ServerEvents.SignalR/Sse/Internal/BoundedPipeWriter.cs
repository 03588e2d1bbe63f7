using System.IO.Pipelines;

namespace ServerEvents.Sse.Internal;

/// <summary>
/// A pipe writer that never blocks and counts what is written but not yet sent; past the limit it calls
/// <paramref name="overflow"/> once (the connection closes) and drops further writes. This bounds the
/// memory one slow reader can hold without ever delaying the writer, who serves every other client too.
/// </summary>
internal sealed class BoundedPipeWriter(PipeWriter inner, long maxUnsent, Action overflow) : PipeWriter
{
    private long _unsent;
    private int _overflowed;

    public void Consumed(long bytes) => Interlocked.Add(ref _unsent, -bytes);

    public override void Advance(int bytes)
    {
        inner.Advance(bytes);
        if (Interlocked.Add(ref _unsent, bytes) > maxUnsent && Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            overflow();
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _overflowed) == 1 ? ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: true)) : inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);
}

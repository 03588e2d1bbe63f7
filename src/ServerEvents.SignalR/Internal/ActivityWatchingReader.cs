using System.Buffers;
using System.IO.Pipelines;

namespace ServerEvents.Internal;

/// <summary>
/// A hub connection's input as SignalR reads it, noting when the client has sent anything after its handshake (a
/// message or a keep-alive ping). Until then every consumed byte is counted; after it, nothing more is done.
/// </summary>
internal sealed class ActivityWatchingReader(PipeReader inner, long handshakeBytes) : PipeReader
{
    private ReadOnlySequence<byte> _lastRead;
    private long _consumed;
    private volatile bool _active;

    /// <summary>True once the client sent something after its handshake.</summary>
    public bool Active => _active;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(cancellationToken);
        if (_active)
        {
            return read;
        }
        if (read.IsCompletedSuccessfully)
        {
            // A pipe's result may be taken once: handed on as a plain value.
            var result = read.Result;
            _lastRead = result.Buffer;
            return new ValueTask<ReadResult>(result);
        }
        return RememberAsync(read);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        _lastRead = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (!_active)
        {
            _consumed += _lastRead.Slice(0, consumed).Length;
            _lastRead = default;
            if (_consumed > handshakeBytes)
            {
                _active = true;
            }
        }
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private async ValueTask<ReadResult> RememberAsync(ValueTask<ReadResult> read)
    {
        var result = await read;
        _lastRead = result.Buffer;
        return result;
    }
}

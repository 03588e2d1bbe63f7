using System.IO.Pipelines;

namespace ServerEvents.Internal;

/// <summary>A connection's transport made of two pipe ends (the SSE bridge's connections, the hub guard's watched input).</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}

using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ServerEvents.Redis.Internal;

/// <summary>A client-result call waiting for its answer, with the type the answer must have.</summary>
internal abstract class PendingClientResult(string connectionId)
{
    public string ConnectionId { get; } = connectionId;

    public abstract Type ResultType { get; }

    /// <summary>Completes from the client's completion message: its value, its error as a <see cref="HubException"/>, or default.</summary>
    public abstract void Complete(CompletionMessage completion);

    public abstract void Fail(Exception error);
}

/// <inheritdoc />
internal sealed class PendingClientResult<T>(string connectionId) : PendingClientResult(connectionId)
{
    private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _result.Task;

    public override Type ResultType => typeof(T);

    public override void Complete(CompletionMessage completion)
    {
        if (completion.Error is { } error)
        {
            _result.TrySetException(new HubException(error));
        }
        else if (completion.HasResult && completion.Result is T value)
        {
            _result.TrySetResult(value);
        }
        else if (completion.HasResult && completion.Result is not null)
        {
            _result.TrySetException(new InvalidCastException($"The client returned a {completion.Result.GetType().Name}, not a {typeof(T).Name}."));
        }
        else
        {
            _result.TrySetResult(default!);
        }
    }

    public override void Fail(Exception error) => _result.TrySetException(error);
}

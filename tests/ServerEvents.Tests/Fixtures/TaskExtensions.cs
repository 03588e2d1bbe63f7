namespace ServerEvents.Tests.Fixtures;

/// <summary>Every await in a test ends in DefaultTimeout so nothing can hang the suite.</summary>
public static class TaskExtensions
{
    public static TimeSpan Default { get; } = TimeSpan.FromSeconds(15);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task DefaultTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);
}

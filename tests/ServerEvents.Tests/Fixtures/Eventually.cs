namespace ServerEvents.Tests.Fixtures;

/// <summary>Polls a condition that becomes true asynchronously (e.g. presence after a disconnect), up to the default timeout.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string because)
    {
        var deadline = DateTime.UtcNow + TaskExtensions.Default;
        var delay = 5;
        while (!await condition().DefaultTimeout())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still false after {TaskExtensions.Default}: {because}. Server warnings: {FailureLog.Recent()}");
            }
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 100);
        }
    }
}

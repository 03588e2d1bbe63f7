namespace ServerEvents.Internal;

/// <summary>Async locks striped by key, so changes to one name (a group, a subscription) happen one at a time.</summary>
internal sealed class StripedLock
{
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<Releaser> LockAsync(string key, CancellationToken cancellationToken = default)
    {
        var stripe = _stripes[(uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        return new Releaser(stripe);
    }

    public readonly struct Releaser(SemaphoreSlim stripe) : IDisposable
    {
        public void Dispose() => stripe.Release();
    }
}

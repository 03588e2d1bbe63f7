using System.Collections.Concurrent;

namespace ServerEvents.Redis.Internal;

/// <summary>
/// Local members per group (or SignalR user) as copy-on-write arrays: sends, which are far more frequent
/// than joins, read a ready array without locking or copying.
/// </summary>
internal sealed class LocalGroups
{
    private readonly ConcurrentDictionary<string, LocalConnection[]> _members = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public LocalConnection[] Members(string group) => _members.GetValueOrDefault(group) ?? [];

    /// <summary>The groups with local members now.</summary>
    public ICollection<string> Names => _members.Keys;

    public bool IsEmpty(string group) => !_members.ContainsKey(group);

    public void Add(string group, LocalConnection connection)
    {
        lock (_gate)
        {
            var current = _members.GetValueOrDefault(group) ?? [];
            if (!current.Contains(connection))
            {
                _members[group] = [.. current, connection];
            }
        }
    }

    /// <summary>Removes a member; true when the group has no local member left.</summary>
    public bool Remove(string group, LocalConnection connection)
    {
        lock (_gate)
        {
            if (!_members.TryGetValue(group, out var current))
            {
                return true;
            }
            var remaining = current.Where(c => c != connection).ToArray();
            if (remaining.Length == 0)
            {
                _members.TryRemove(group, out _);
                return true;
            }
            _members[group] = remaining;
            return false;
        }
    }
}

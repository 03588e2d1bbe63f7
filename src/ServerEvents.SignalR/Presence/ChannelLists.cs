namespace ServerEvents.Presence;

/// <summary>Channel-list arithmetic shared by every store, so each applies the same rules.</summary>
internal static class ChannelLists
{
    /// <summary>
    /// The channel list after removing <paramref name="remove"/> and then adding <paramref name="add"/>
    /// (ServiceStack's order), keeping join order and ignoring duplicates.
    /// </summary>
    /// <param name="current">Channels now.</param>
    /// <param name="add">Channels to add.</param>
    /// <param name="remove">Channels to remove.</param>
    /// <param name="maxChannels">Upper bound on the result.</param>
    /// <exception cref="ArgumentException">The result would have more than <paramref name="maxChannels"/> channels.</exception>
    public static IReadOnlyList<string> Apply(IReadOnlyList<string> current, IEnumerable<string> add, IEnumerable<string> remove, int maxChannels)
    {
        ArgumentNullException.ThrowIfNull(current);
        var removed = new HashSet<string>(remove, StringComparer.Ordinal);
        var result = current.Where(c => !removed.Contains(c)).ToList();
        var present = new HashSet<string>(result, StringComparer.Ordinal);
        var grew = false;
        foreach (var channel in add)
        {
            if (present.Add(channel))
            {
                result.Add(channel);
                grew = true;
            }
        }
        if (grew && result.Count > maxChannels)
        {
            throw new ArgumentException($"A subscription may be in at most {maxChannels} channels; this change would make it {result.Count}.", nameof(add));
        }
        return result;
    }
}

using ServerEvents.Presence;

namespace ServerEvents.Tests.Unit;

public sealed class MemorySubscriptionStoreTests
{
    private readonly MemorySubscriptionStore _store = new();

    [Fact]
    public async Task Indexes_follow_adds_updates_and_removes()
    {
        await _store.AddAsync(Sub("s1", "u1", "alice", "sess", "a", "b"));
        await _store.AddAsync(Sub("s2", "u1", "alice", null, "b"));

        Assert.Equal(2, (await _store.FindAsync(SubscriptionIndex.UserId, "u1")).Count);
        Assert.Equal(2, (await _store.FindAsync(SubscriptionIndex.UserName, "alice")).Count);
        Assert.Single(await _store.FindAsync(SubscriptionIndex.Session, "sess"));
        Assert.Equal(2, (await _store.FindInChannelsAsync(["a", "b"])).Count);

        var change = await _store.UpdateChannelsAsync("s1", ["c"], ["a"], 10);
        Assert.Equal(["a", "b"], change!.Before);
        Assert.Equal(["b", "c"], change.After.Channels);
        Assert.Equal(["c"], change.Joined);
        Assert.Equal(["a"], change.Left);
        var counts = await _store.GetChannelCountsAsync();
        Assert.False(counts.ContainsKey("a"));
        Assert.Equal(2, counts["b"]);

        Assert.NotNull(await _store.RemoveAsync("s1"));
        Assert.Null(await _store.RemoveAsync("s1"));
        Assert.Empty(await _store.FindAsync(SubscriptionIndex.Session, "sess"));
        Assert.Equal(1, await _store.CountAsync());
    }

    [Fact]
    public async Task Returns_snapshots_that_cannot_change_the_store()
    {
        await _store.AddAsync(Sub("s1", "u1", null, null, "a"));
        var copy = await _store.GetAsync("s1");
        copy!.Channels = ["hacked"];
        copy.Meta["x"] = "y";

        var fresh = await _store.GetAsync("s1");
        Assert.Equal(["a"], fresh!.Channels);
        Assert.Empty(fresh.Meta);
    }

    [Fact]
    public async Task Refuses_duplicates_and_keeps_sequences_across_clear()
    {
        await _store.AddAsync(Sub("s1", "u1", null, null, "a"));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.AddAsync(Sub("s1", "u2", null, null, "b")));
        Assert.Equal(1, await _store.NextSequenceAsync("n"));
        await _store.ClearAsync();
        Assert.Equal(0, await _store.CountAsync());
        Assert.Equal(2, await _store.NextSequenceAsync("n"));
        Assert.Null(await _store.UpdateChannelsAsync("s1", ["x"], [], 10));
        Assert.False(await _store.PulseAsync("s1", DateTimeOffset.UtcNow));
    }

    private static SubscriptionInfo Sub(string id, string userId, string? userName, string? session, params string[] channels) => new()
    {
        SubscriptionId = id,
        UserId = userId,
        UserName = userName,
        SessionId = session,
        DisplayName = userName ?? "anon",
        Channels = channels,
        CreatedAt = DateTimeOffset.UtcNow,
    };
}

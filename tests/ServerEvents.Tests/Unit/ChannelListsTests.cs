using ServerEvents.Presence;

namespace ServerEvents.Tests.Unit;

public sealed class ChannelListsTests
{
    [Fact]
    public void Removes_first_then_adds_keeping_join_order_without_duplicates() =>
        Assert.Equal(["b", "c", "a"], ChannelLists.Apply(["a", "b"], ["c", "a", "c"], ["a"], 10));

    [Fact]
    public void Refuses_growth_past_the_limit_but_allows_shrinking_while_over_it()
    {
        Assert.Throws<ArgumentException>(() => ChannelLists.Apply(["a", "b"], ["c"], [], 2));
        Assert.Equal(["b", "c"], ChannelLists.Apply(["a", "b", "c"], [], ["a"], 2));
        Assert.Equal(["a", "b"], ChannelLists.Apply(["a", "b"], ["a"], [], 2));
    }
}

using System.Text.RegularExpressions;

namespace ServerEvents.Tests.Unit;

public sealed class ChannelNameRulesTests
{
    [Theory]
    [InlineData("home")]
    [InlineData("*")]
    [InlineData("team.room-1_ä")]
    [InlineData("a:b/c")]
    public void Accepts_ordinary_names(string channel) => new ChannelNameRules().Validate(channel);

    [Theory]
    [InlineData(null, "must not be empty")]
    [InlineData("", "must not be empty")]
    [InlineData(" \t", "must not be empty")]
    [InlineData("a,b", "','")]
    [InlineData("a@b", "'@'")]
    [InlineData("a\rb", "U+000D")]
    [InlineData("a\u0000b", "U+0000")]
    [InlineData("a\u2028b", "U+2028")]
    public void Refuses_with_the_reason(string? channel, string reason)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new ChannelNameRules().Validate(channel));
        Assert.Contains(reason, ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
    }

    [Fact]
    public void Length_and_pattern_are_configurable()
    {
        var rules = new ChannelNameRules { MaxLength = 5, Pattern = "[a-z]+" };
        rules.Validate("abcde");
        Assert.Contains("limit is 5", Assert.Throws<ArgumentException>(() => rules.Validate("abcdef")).Message);
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() => rules.Validate("ab1")).Message);
    }
}

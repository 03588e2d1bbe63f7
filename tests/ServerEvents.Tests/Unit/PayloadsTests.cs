using Microsoft.Extensions.Options;
using ServerEvents.Internal;

namespace ServerEvents.Tests.Unit;

public sealed class PayloadsTests
{
    private readonly Payloads _payloads = new(Options.Create(new ServerEventsOptions { MaxMessageLength = 100 }));

    [Fact]
    public void Objects_are_serialized_camelCase_without_nulls_with_default_selector()
    {
        var (selector, json) = _payloads.FromObject(null, new Sample("x", null, 3));
        Assert.Equal("cmd.Sample", selector);
        Assert.Equal("{\"name\":\"x\",\"count\":3}", json);
    }

    [Fact]
    public void Generic_type_names_lose_their_arity_suffix() =>
        Assert.Equal("cmd.List", Payloads.DefaultSelector(typeof(List<int>)));

    [Fact]
    public void Strings_are_sent_as_JSON_strings() =>
        Assert.Equal("\"he said \\u0022hi\\u0022\"", _payloads.FromObject("cmd.x", "he said \"hi\"").Json);

    [Theory]
    [InlineData("cmd.chat")]
    [InlineData("css.background-image$#top")]
    [InlineData("css.visibility$img,a")]
    [InlineData("tv.watch")]
    public void Accepts_ServiceStack_selectors(string selector) => Payloads.ValidateSelector(selector);

    [Theory]
    [InlineData("")]
    [InlineData("chat")]
    [InlineData(".chat")]
    [InlineData("cmd.a b")]
    [InlineData("ch@cmd.x")]
    [InlineData("cmd.x\n")]
    public void Refuses_malformed_selectors(string selector) =>
        Assert.ThrowsAny<ArgumentException>(() => Payloads.ValidateSelector(selector));

    [Fact]
    public void Json_text_is_checked_and_compacted_only_when_it_spans_lines()
    {
        Assert.Equal("{ \"a\" : 1 }", _payloads.FromJson("cmd.x", "{ \"a\" : 1 }"));
        Assert.Equal("{\"a\":1}", _payloads.FromJson("cmd.x", "{\r\n\"a\" : 1\n}"));
        Assert.Equal("", _payloads.FromJson("cmd.x", ""));
        Assert.Throws<ArgumentException>(() => _payloads.FromJson("cmd.x", "{\"a\":"));
        Assert.Throws<ArgumentException>(() => _payloads.FromJson("cmd.x", "not json"));
        Assert.Throws<ArgumentNullException>(() => _payloads.FromJson("cmd.x", null!));
        Assert.Contains("limit is 100", Assert.Throws<ArgumentException>(() => _payloads.FromJson("cmd.x", new string(' ', 101))).Message);
    }

    [Theory]
    [InlineData("1 2")]
    [InlineData("{} {}")]
    [InlineData("   ")]
    [InlineData("[1,")]
    [InlineData("{\"a\":1,}")]
    [InlineData("// note\t1")]
    public void Json_text_must_be_exactly_one_well_formed_value(string json) =>
        Assert.Contains("not well-formed JSON", Assert.Throws<ArgumentException>(() => _payloads.FromJson("cmd.x", json)).Message);

    [Fact]
    public void Json_text_longer_than_the_stack_buffer_is_checked_the_same_way()
    {
        var payloads = new Payloads(Options.Create(new ServerEventsOptions()));
        var long_ = "{\"pad\":\"" + new string('é', 2000) + "\"}";
        Assert.Same(long_, payloads.FromJson("cmd.x", long_));
        Assert.Throws<ArgumentException>(() => payloads.FromJson("cmd.x", long_[..^1]));
        // Deeper than JSON documents may nest (64) is refused too.
        Assert.Throws<ArgumentException>(() => payloads.FromJson("cmd.x", new string('[', 65) + new string(']', 65)));
        Assert.Equal("[[1]]", payloads.FromJson("cmd.x", "[[1]]"));
        // A lone surrogate has no UTF-8 form: refused, not replaced (made here, as attribute strings cannot hold one).
        var lone = "\"" + (char)0xD800 + "\"";
        Assert.Contains("not well-formed JSON", Assert.Throws<ArgumentException>(() => payloads.FromJson("cmd.x", lone)).Message);
        Assert.Contains("not well-formed JSON", Assert.Throws<ArgumentException>(() => payloads.FromJson("cmd.x", lone + new string(' ', 300))).Message);
    }

    private sealed record Sample(string Name, string? Note, int Count);
}

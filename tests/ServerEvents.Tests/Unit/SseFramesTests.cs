using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using ServerEvents.Sse.Internal;

namespace ServerEvents.Tests.Unit;

public sealed class SseFramesTests
{
    private static string Frame(long id, string? channel, string selector, string? json)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SseFrames.Write(buffer, id, channel, selector, json);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void Writes_ServiceStack_frames_with_LF_only()
    {
        Assert.Equal("id: 7\ndata: home@cmd.chat {\"text\":\"hi\"}\n\n", Frame(7, "home", "cmd.chat", "{\"text\":\"hi\"}"));
        Assert.Equal("id: 8\ndata: cmd.onConnect {}\n\n", Frame(8, null, "cmd.onConnect", "{}"));
        Assert.Equal("id: 1795403051858340\ndata: cmd.announce \"x\"\n\n", Frame(1795403051858340, null, "cmd.announce", "\"x\""));
    }

    [Fact]
    public void An_empty_body_keeps_the_trailing_space_and_no_id_means_no_id_line()
    {
        Assert.Equal("id: 3\ndata: cmd.ping \n\n", Frame(3, null, "cmd.ping", null));
        Assert.Equal("data: cmd.hello 1\n\n", Frame(0, null, "cmd.hello", "1"));
    }

    [Fact]
    public void Non_ASCII_is_written_as_UTF8()
    {
        Assert.Equal("id: 1\ndata: café@cmd.chat \"日本 ✓\"\n\n", Frame(1, "café", "cmd.chat", "\"日本 ✓\""));
    }

    [Theory]
    [InlineData("{\"a\":1}\n\ndata: cmd.evil {}", "cmd.x", "home")]
    [InlineData("1", "cmd.x\r\ndata: cmd.evil", "home")]
    [InlineData("1", "cmd.x", "home\nid: 9")]
    public void No_input_can_add_a_line(string json, string selector, string channel)
    {
        var frame = Frame(5, channel, selector, json);
        var lines = frame.Split('\n');
        Assert.Equal(4, lines.Length); // id, data, "", "" (the frame's own blank line)
        Assert.StartsWith("id: 5", lines[0]);
        Assert.StartsWith("data: ", lines[1]);
        Assert.DoesNotContain('\r', frame);
    }

    [Fact]
    public void The_protocol_writes_envelopes_hub_invocations_and_close_reasons()
    {
        var protocol = new SseHubProtocol(Options.Create(new ServerEventsOptions()));
        string Write(HubMessage message) => Encoding.UTF8.GetString(protocol.GetMessageBytes(message).Span);

        Assert.Equal("id: 42\ndata: news@cmd.headline {\"t\":1}\n\n",
            Write(new InvocationMessage(ServerEventsHubBase.ClientMethod, [new ServerEvent(42, "news", "cmd.headline", "{\"t\":1}")])));
        Assert.Equal("data: cmd.chatMessage {\"fromName\":\"ann\"}\n\n", Write(new InvocationMessage("chatMessage", [new { FromName = "ann" }])));
        Assert.Equal("data: cmd.pair [1,\"two\"]\n\n", Write(new InvocationMessage("pair", [1, "two"])));
        Assert.Equal("data: cmd.bare \n\n", Write(new InvocationMessage("bare", [])));
        Assert.Equal(": closed: Not allowed\n", Write(new CloseMessage("Not allowed")));
        Assert.Equal("", Write(PingMessage.Instance));
        Assert.Equal("servicestack-sse", protocol.Name);
    }
}

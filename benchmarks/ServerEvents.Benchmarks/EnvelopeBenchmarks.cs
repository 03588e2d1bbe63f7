using System.Buffers;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using ServerEvents.Internal;
using ServerEvents.Sse.Internal;

namespace ServerEvents.Benchmarks;

/// <summary>
/// What one notify costs before any network: payload serialization or, for JSON text, its check (once per call),
/// the SignalR JSON envelope and the SSE frame (each once per event per server, shared by every recipient).
/// </summary>
[MemoryDiagnoser]
public class EnvelopeBenchmarks
{
    private readonly Payloads _payloads = new(Options.Create(new ServerEventsOptions()));
    private readonly JsonHubProtocol _json = new();
    private readonly SseHubProtocol _sse = new(Options.Create(new ServerEventsOptions()));
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly ChatMessage _message = new(42, "home", "-7", "user7", "hello there, this is a chat message of ordinary length", false);
    private InvocationMessage _envelope = null!;
    private string _rawJson = null!;

    public sealed record ChatMessage(long Id, string Channel, string FromUserId, string FromName, string Message, bool Private);

    [GlobalSetup]
    public void Setup()
    {
        var (selector, json) = _payloads.FromObject("cmd.chat", _message);
        _envelope = new InvocationMessage(ServerEventsHubBase.ClientMethod, [new ServerEvent(1795400000000000, "home", selector, json)]);
        _rawJson = json;
    }

    [Benchmark]
    public int Serialize_payload_once_per_notify() => _payloads.FromObject("cmd.chat", _message).Json.Length;

    [Benchmark]
    public int Check_json_text_once_per_notify() => _payloads.FromJson("cmd.chat", _rawJson).Length;

    [Benchmark]
    public int SignalR_json_envelope()
    {
        _buffer.ResetWrittenCount();
        _json.WriteMessage(_envelope, _buffer);
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int SSE_frame()
    {
        _buffer.ResetWrittenCount();
        _sse.WriteMessage(_envelope, _buffer);
        return _buffer.WrittenCount;
    }
}

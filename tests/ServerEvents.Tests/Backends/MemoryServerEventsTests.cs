using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Tests.Fixtures;
using ServerEvents.Tests.Specification;

namespace ServerEvents.Tests.Backends;

/// <summary>The shared suite on the default in-memory back-end: one app server.</summary>
public sealed class MemoryServerEventsTests : ServerEventsSpecification
{
    protected override int ServerCount => 1;

    protected override void UseBackend(IServerEventsBuilder builder)
    {
    }

    [Fact]
    public async Task A_client_resuming_from_before_the_memory_server_restarted_gets_a_reset_then_what_the_new_one_kept()
    {
        long last;
        await using (var before = await StartAsync())
        {
            var client = await before.ConnectAsync(0, "home");
            await before.Api(0).NotifyChannelAsync("home", "cmd.seq", "before").DefaultTimeout();
            last = (await client.WaitForAsync("cmd.seq")).EventId;
        }

        // A new process: its history starts empty, and its ids start above every id the old one issued.
        await using var after = await StartAsync();
        await after.Api(0).NotifyChannelAsync("home", "cmd.seq", "after").DefaultTimeout();
        var resumed = await after.ConnectAsync(0, "home", lastEventId: last);
        var events = (await resumed.BarrierAsync(after.Api(0))).Where(e => e.Selector is "cmd.seq" or "cmd.onReset").ToList();
        Assert.Equal(["cmd.onReset", "cmd.seq"], events.Select(e => e.Selector));
        Assert.Equal(last.ToString(System.Globalization.CultureInfo.InvariantCulture), events[0].Meta["lastEventId"]);
        Assert.Equal("\"after\"", events[1].Json);
        Assert.True(last < events[0].EventId && events[0].EventId < events[1].EventId, $"{last}, {events[0].EventId}, {events[1].EventId}");
    }
}

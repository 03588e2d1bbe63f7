using System.Diagnostics;
using ServerEvents.Redis.Internal;

namespace ServerEvents.Tests.Unit;

/// <summary>
/// The mark a publisher with local recipients waits on: released when its event is delivered here, after one to two
/// timeouts when the echo never comes, and at once when the back-end shuts down.
/// </summary>
public sealed class DeliveryWatermarkTests
{
    [Fact]
    public async Task A_wait_ends_when_its_event_or_a_later_one_is_delivered_and_not_before()
    {
        using var mark = new DeliveryWatermark(TimeSpan.FromMinutes(1));
        var third = mark.WaitAsync(3);
        var fifth = mark.WaitAsync(5);
        mark.Delivered(2);
        Assert.False(third.IsCompleted);
        mark.Delivered(4);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(fifth.IsCompleted);
        Assert.True(mark.WaitAsync(4).IsCompleted); // already delivered
        mark.Delivered(9);
        await fifth.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(9, mark.Current);
    }

    [Fact]
    public async Task A_wait_whose_event_never_comes_ends_after_one_to_two_timeouts()
    {
        var timeout = TimeSpan.FromMilliseconds(300);
        using var mark = new DeliveryWatermark(timeout);
        var clock = Stopwatch.StartNew();
        await mark.WaitAsync(42).WaitAsync(TimeSpan.FromSeconds(10));
        // A tick lets go only of waiters that were there at the tick before: never sooner than one timeout.
        Assert.InRange(clock.Elapsed, timeout * 0.9, timeout * 2 + TimeSpan.FromSeconds(1));
        Assert.Equal(0, mark.Current);
    }

    [Fact]
    public async Task Disposing_lets_every_waiter_go_and_later_waits_do_not_wait()
    {
        var mark = new DeliveryWatermark(TimeSpan.FromMinutes(1));
        var waiting = mark.WaitAsync(7);
        mark.Dispose();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(mark.WaitAsync(8).IsCompleted);
    }
}

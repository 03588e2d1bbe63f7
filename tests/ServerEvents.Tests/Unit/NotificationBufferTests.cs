using ServerEvents.Redis.Internal;

namespace ServerEvents.Tests.Unit;

public sealed class NotificationBufferTests
{
    private static BufferedNotification Notification(string token) => new([], [], [], token);

    [Fact]
    public void Stays_out_of_the_way_until_something_is_buffered_then_keeps_later_notifies_behind_it()
    {
        var buffer = new NotificationBuffer(3);
        Assert.Equal(BufferResult.Skipped, buffer.TryAdd(Notification, evenIfEmpty: false));
        Assert.Equal(BufferResult.QueuedFirst, buffer.TryAdd(Notification, evenIfEmpty: true));
        Assert.NotNull(buffer.Since);
        Assert.Equal(BufferResult.Queued, buffer.TryAdd(Notification, evenIfEmpty: false));
        Assert.Equal(2, buffer.Count);

        Assert.True(buffer.TryPeek(out var first));
        Assert.Equal("1", first.Token);
        Assert.False(buffer.RemoveHead());
        Assert.True(buffer.TryPeek(out var second));
        Assert.Equal("2", second.Token);
        Assert.True(buffer.RemoveHead());
        Assert.Null(buffer.Since);
        Assert.Equal(BufferResult.Skipped, buffer.TryAdd(Notification, evenIfEmpty: false));
    }

    [Fact]
    public void Refuses_past_its_capacity_and_counts_the_refusals()
    {
        var buffer = new NotificationBuffer(2);
        buffer.TryAdd(Notification, evenIfEmpty: true);
        buffer.TryAdd(Notification, evenIfEmpty: true);
        Assert.Equal(BufferResult.Full, buffer.TryAdd(Notification, evenIfEmpty: true));
        Assert.Equal(BufferResult.Full, new NotificationBuffer(0).TryAdd(Notification, evenIfEmpty: true));
        Assert.Equal(1, buffer.Refused);
        Assert.Equal(2, buffer.Count);
    }
}

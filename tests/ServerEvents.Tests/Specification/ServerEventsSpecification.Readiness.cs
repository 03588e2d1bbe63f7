using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

/// <summary>
/// ServiceStack's contract: a client that has its <c>cmd.onConnect</c> is subscribed — in its channels, its identity
/// groups and notify-all, on every server — so whatever anyone publishes to them after that reaches it.
/// </summary>
public abstract partial class ServerEventsSpecification
{
    /// <summary>Enough rounds to lose a race that one in a few dozen connections would lose.</summary>
    private const int ReadinessRounds = 120;

    [Fact]
    public async Task A_client_that_has_its_onConnect_gets_what_another_server_publishes_to_it_that_instant()
    {
        await using var cluster = await StartAsync();
        for (var i = 0; i < ReadinessRounds; i++)
        {
            var channel = $"ready{i}";
            // Returns the moment cmd.onConnect arrives: no waiting for cmd.onJoin.
            await using var client = await TestClient.ConnectAsync(cluster.HubUrl(i, $"channels={channel}"), awaitJoins: false);
            await PublishToAsync(cluster.Api(i + 1), i, channel, client.UserId).DefaultTimeout();
            var received = await client.WaitForAsync(e => e.Selector == "cmd.ready", TimeSpan.FromSeconds(5));
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Json);
            // onConnect first, and everything after it in ascending id order, above the onConnect's id (the point the
            // client is subscribed from, where it would resume).
            var events = client.Events;
            Assert.Equal("cmd.onConnect", events[0].Selector);
            Assert.All(events.Skip(1).Zip(events), pair => Assert.True(pair.First.EventId > pair.Second.EventId, $"{pair.First.EventId} after {pair.Second.EventId}"));
        }
    }

    /// <summary>Round <paramref name="round"/> publishes to the client's channel, its user id, or everyone, in turn.</summary>
    internal static Task PublishToAsync(IServerEvents api, int round, string channel, string userId) => (round % 3) switch
    {
        0 => api.NotifyChannelAsync(channel, "cmd.ready", round),
        1 => api.NotifyUserIdAsync(userId, "cmd.ready", round),
        _ => api.NotifyAllAsync("cmd.ready", round),
    };
}

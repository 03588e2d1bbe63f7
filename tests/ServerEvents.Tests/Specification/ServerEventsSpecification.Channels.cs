using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task SubscribeToChannels_from_the_client_joins_the_group_and_sends_onUpdate()
    {
        await using var cluster = await StartAsync();
        var mover = await cluster.ConnectAsync(0, "home");
        var inHome = await cluster.ConnectAsync(1, "home");
        var inNews = await cluster.ConnectAsync(2, "news");

        await mover.Connection.InvokeAsync("SubscribeToChannels", new[] { "news" }).DefaultTimeout();

        var update = await inNews.WaitForAsync(e => e.Selector == "cmd.onUpdate" && e.Meta["userId"] == mover.UserId);
        Assert.Equal("news", update.Channel);
        Assert.Equal("home,news", update.Meta["channels"]);
        await inHome.WaitForAsync(e => e.Selector == "cmd.onUpdate" && e.Channel == "home" && e.Meta["userId"] == mover.UserId);
        await cluster.Api(1).NotifyChannelAsync("news", "cmd.headline", "x").DefaultTimeout();
        await mover.WaitForAsync("cmd.headline", "news");
        Assert.Equal(["home", "news"], (await cluster.Api(2).GetSubscriptionInfoAsync(mover.Id).DefaultTimeout())!.Channels);
    }

    [Fact]
    public async Task UnsubscribeFromChannels_from_the_client_stops_delivery_and_sends_onUpdate()
    {
        await using var cluster = await StartAsync();
        var mover = await cluster.ConnectAsync(0, "home,news");
        var inNews = await cluster.ConnectAsync(1, "news");

        await mover.Connection.InvokeAsync("UnsubscribeFromChannels", new[] { "news" }).DefaultTimeout();

        var update = await inNews.WaitForAsync(e => e.Selector == "cmd.onUpdate" && e.Meta["userId"] == mover.UserId);
        Assert.Equal("home", update.Meta["channels"]);
        await cluster.Api(2).NotifyChannelAsync("news", "cmd.headline", "x").DefaultTimeout();
        await inNews.WaitForAsync("cmd.headline", "news");
        Assert.DoesNotContain(await mover.BarrierAsync(cluster.Api(2)), e => e.Selector == "cmd.headline");
        Assert.Equal(["home"], (await cluster.Api(1).GetSubscriptionInfoAsync(mover.Id).DefaultTimeout())!.Channels);
    }

    [Fact]
    public async Task Server_API_changes_channels_of_a_subscription_on_any_server()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        var api = cluster.Api(1);

        var joined = await api.SubscribeToChannelsAsync(client.Id, ["alerts", "home"]).DefaultTimeout();
        Assert.Equal(["home", "alerts"], joined!.Channels);
        await api.NotifyChannelAsync("alerts", "cmd.alert", 1).DefaultTimeout();
        await client.WaitForAsync("cmd.alert", "alerts");

        var left = await cluster.Api(2).UnsubscribeFromChannelsAsync(client.Id, ["home"]).DefaultTimeout();
        Assert.Equal(["alerts"], left!.Channels);
        await api.NotifyChannelAsync("home", "cmd.homeNews", 1).DefaultTimeout();
        Assert.DoesNotContain(await client.BarrierAsync(api), e => e.Selector == "cmd.homeNews");
    }

    [Fact]
    public async Task Subscribing_to_channels_already_joined_changes_nothing_and_sends_no_update()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");

        await client.Connection.InvokeAsync("SubscribeToChannels", new[] { "home" }).DefaultTimeout();

        Assert.DoesNotContain(await client.BarrierAsync(cluster.Api(1)), e => e.Selector == "cmd.onUpdate");
    }
}

using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Reference;

/// <summary>
/// Everything <c>IHubContext</c> can send, and group changes for connections on the other server, on our Redis manager
/// and on Microsoft's: every client must receive the same messages on both.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed class SendsReferenceTests(RedisFixture redis, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_kind_of_send_reaches_the_same_connections_as_on_Microsofts_backplane()
    {
        var received = new List<string>();
        foreach (var start in new Func<string, Task<ReferenceDeployment>>[] { ReferenceDeployment.MicrosoftsAsync, ReferenceDeployment.OursAsync })
        {
            await using var deployment = await start(redis.ConnectionString);
            var outcome = await SendEverythingAsync(deployment);
            output.WriteLine($"{deployment.Name}:\n{outcome}");
            received.Add(outcome);
        }
        Assert.Equal(received[0], received[1]);
    }

    /// <summary>Clients a and c on server 0, b on server 1; every send is made from server 1.</summary>
    private static async Task<string> SendEverythingAsync(ReferenceDeployment deployment)
    {
        var clients = new Dictionary<string, (HubConnection Connection, List<string> Messages)>();
        foreach (var (name, server, user) in new[] { ("a", 0, "u1"), ("b", 1, "u2"), ("c", 0, "u3") })
        {
            var messages = new List<string>();
            var connection = await deployment.ConnectAsync(server, user);
            connection.On<string>("m", text =>
            {
                lock (messages)
                {
                    messages.Add(text);
                }
            });
            clients[name] = (connection, messages);
        }
        string Id(string name) => clients[name].Connection.ConnectionId!;
        try
        {
            var all = deployment.Clients(1);
            var groups = deployment.Groups(1);
            await all.All.SendAsync("m", "all").DefaultTimeout();
            await all.AllExcept([Id("a")]).SendAsync("m", "all-except-a").DefaultTimeout();
            // Group changes for connections on the other server, made from this one.
            await groups.AddToGroupAsync(Id("a"), "g").DefaultTimeout();
            await groups.AddToGroupAsync(Id("c"), "h").DefaultTimeout();
            await groups.AddToGroupAsync(Id("b"), "h").DefaultTimeout();
            await all.Group("g").SendAsync("m", "group-g").DefaultTimeout();
            await all.Groups(["g", "h"]).SendAsync("m", "groups-g-h").DefaultTimeout();
            await all.GroupExcept("h", [Id("c")]).SendAsync("m", "group-h-except-c").DefaultTimeout();
            await all.User("u1").SendAsync("m", "user-u1").DefaultTimeout();
            await all.Users(["u2", "u3"]).SendAsync("m", "users-u2-u3").DefaultTimeout();
            await all.Client(Id("b")).SendAsync("m", "client-b").DefaultTimeout();
            await all.Clients([Id("a"), Id("c")]).SendAsync("m", "clients-a-c").DefaultTimeout();
            await all.Client("nobody").SendAsync("m", "nobody").DefaultTimeout();
            await groups.RemoveFromGroupAsync(Id("a"), "g").DefaultTimeout();
            await all.Group("g").SendAsync("m", "group-g-after-a-left").DefaultTimeout();
            await all.All.SendAsync("m", "end").DefaultTimeout();
            foreach (var (_, messages) in clients.Values)
            {
                await Eventually.TrueAsync(() =>
                {
                    lock (messages)
                    {
                        return Task.FromResult(messages.Contains("end"));
                    }
                }, "a client did not get the last send");
            }
            // Each backplane orders sends to different targets its own way (Microsoft's: a Redis channel per target).
            return string.Join("\n", clients.Select(c =>
            {
                lock (c.Value.Messages)
                {
                    return $"{c.Key}: {string.Join(", ", c.Value.Messages.Order(StringComparer.Ordinal))}";
                }
            }));
        }
        finally
        {
            foreach (var (connection, _) in clients.Values)
            {
                await connection.DisposeAsync();
            }
        }
    }
}

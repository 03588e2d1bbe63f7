using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Specification;

public abstract partial class ServerEventsSpecification
{
    [Fact]
    public async Task Client_results_come_back_from_a_connection_on_any_server()
    {
        await using var cluster = await StartAsync();
        var client = await cluster.ConnectAsync(0, "home");
        client.Connection.On("Add", (int a, int b) => a + b);
        client.Connection.On("Describe", (string name) => new Dictionary<string, string> { ["name"] = name, ["length"] = name.Length.ToString() });
        client.Connection.On("Fail", (string reason) => reason.Length > 0 ? throw new InvalidOperationException(reason) : 0);
        var caller = cluster[1].HubContext<ServerEventsHub>().Clients.Client(client.Id);

        Assert.Equal(5, await caller.InvokeAsync<int>("Add", 2, 3, CancellationToken.None).DefaultTimeout());
        var described = await caller.InvokeAsync<Dictionary<string, string>>("Describe", "ada", CancellationToken.None).DefaultTimeout();
        Assert.Equal("3", described["length"]);
        await Assert.ThrowsAsync<HubException>(() => caller.InvokeAsync<int>("Fail", "boom", CancellationToken.None).DefaultTimeout());

        // Calls run concurrently and each gets its own answer.
        var sums = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => caller.InvokeAsync<int>("Add", i, 100, CancellationToken.None))).DefaultTimeout();
        Assert.Equal(Enumerable.Range(100, 20), sums);
    }

    [Fact]
    public async Task Client_results_fail_clearly_for_unknown_or_departed_connections_and_honour_cancellation()
    {
        await using var cluster = await StartAsync();
        var hub = cluster[1].HubContext<ServerEventsHub>();
        var unknown = await Assert.ThrowsAsync<IOException>(() => hub.Clients.Client("nobody").InvokeAsync<int>("Add", 1, 2, CancellationToken.None).DefaultTimeout());
        Assert.Contains("nobody", unknown.Message);

        var client = await cluster.ConnectAsync(0, "home");
        var never = new TaskCompletionSource<int>();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connection.On("Hang", () => never.Task);
        client.Connection.On("HangUntilGone", () =>
        {
            reached.TrySetResult();
            return never.Task;
        });

        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            var canceled = await Assert.ThrowsAsync<HubException>(() => hub.Clients.Client(client.Id).InvokeAsync<int>("Hang", cancel.Token).DefaultTimeout());
            Assert.Contains("canceled", canceled.Message);
        }

        var waiting = hub.Clients.Client(client.Id).InvokeAsync<int>("HangUntilGone", CancellationToken.None);
        await reached.Task.DefaultTimeout();
        await client.DisposeAsync();
        // SignalR's own outcomes: IOException for a connection of the caller's server, HubException from another one.
        var gone = await Assert.ThrowsAnyAsync<Exception>(() => waiting.DefaultTimeout());
        Assert.Equal(cluster.Count == 1 ? $"IOException: Connection '{client.Id}' disconnected." : "HubException: Connection disconnected.", $"{gone.GetType().Name}: {gone.Message}");
    }

    [Fact]
    public async Task A_client_result_call_racing_the_clients_departure_always_ends()
    {
        // The call may reach the owning server before, while or after the connection leaves: it must end each time.
        await using var cluster = await StartAsync();
        var hub = cluster[1].HubContext<ServerEventsHub>();
        for (var round = 0; round < 20; round++)
        {
            var client = await cluster.ConnectAsync(0, "home");
            client.Connection.On("Hang", () => new TaskCompletionSource<int>().Task);
            var waiting = hub.Clients.Client(client.Id).InvokeAsync<int>("Hang", CancellationToken.None);
            await client.DisposeAsync();
            // Before it reached the owner (does not exist), while it left (disconnected, from this server or another one).
            var error = await Assert.ThrowsAnyAsync<Exception>(() => waiting.DefaultTimeout());
            Assert.True(error is IOException or HubException, error.ToString());
            Assert.True(error.Message.Contains("disconnected", StringComparison.Ordinal) || error.Message.Contains("does not exist", StringComparison.Ordinal), error.Message);
        }
    }
}

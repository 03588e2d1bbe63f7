using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using ServerEvents.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerEvents.Tests.Reference;

/// <summary>
/// Client results across servers, on our Redis manager and on Microsoft's (the reference), on one redis-server: every
/// outcome a SignalR user can meet — a value, a value of the wrong type, the client's error, the client leaving, the
/// caller cancelling, an unknown connection, a completion from the wrong connection, a plain (not raw) value handed
/// to the manager — must look the same to the caller on both: same result, or same exception type and message.
/// </summary>
[Collection(RedisTestGroup.Name)]
[Trait("Category", "Redis")]
public sealed partial class ClientResultsReferenceTests(RedisFixture redis, ITestOutputHelper output)
{
    [Fact]
    public Task A_value_comes_back_from_a_client_on_the_other_server() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectAsync(0);
        client.On("Answer", () => 42);
        return await deployment.Client(1, client.ConnectionId!).InvokeAsync<int>("Answer", CancellationToken.None).DefaultTimeout();
    });

    [Fact]
    public Task A_value_of_the_wrong_type_fails_with_the_protocols_error() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectAsync(0);
        client.On("Answer", () => "not a number");
        return await deployment.Client(1, client.ConnectionId!).InvokeAsync<int>("Answer", CancellationToken.None).DefaultTimeout();
    });

    [Fact]
    public Task The_clients_error_is_the_callers_HubException() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectAsync(0);
        client.On("Answer", Func<int> () => throw new InvalidOperationException("boom"));
        return await deployment.Client(1, client.ConnectionId!).InvokeAsync<int>("Answer", CancellationToken.None).DefaultTimeout();
    });

    [Fact]
    public Task A_client_that_leaves_on_the_other_server_ends_the_call() => SameOnBothAsync(async deployment =>
    {
        var client = await deployment.ConnectAsync(0);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.On("Answer", () =>
        {
            reached.TrySetResult();
            return new TaskCompletionSource<int>().Task;
        });
        var waiting = deployment.Client(1, client.ConnectionId!).InvokeAsync<int>("Answer", CancellationToken.None);
        await reached.Task.DefaultTimeout();
        await client.DisposeAsync();
        return await waiting.DefaultTimeout();
    });

    [Fact]
    public Task A_cancelled_call_ends_with_the_servers_message() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectAsync(0);
        client.On("Answer", () => new TaskCompletionSource<int>().Task);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        return await deployment.Client(1, client.ConnectionId!).InvokeAsync<int>("Answer", cancel.Token).DefaultTimeout();
    });

    [Fact]
    public Task A_call_to_a_connection_no_server_has_fails_at_once() => SameOnBothAsync(deployment =>
        deployment.Client(1, "nobody").InvokeAsync<int>("Answer", CancellationToken.None).DefaultTimeout());

    [Fact]
    public Task A_completion_from_another_connection_is_refused_and_the_right_one_still_counts() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectRawAsync(0);
        var waiting = deployment.Client(1, client.ConnectionId).InvokeAsync<int>("Answer", CancellationToken.None);
        var invocation = await client.ReceiveAsync(r => r.TryGetProperty("invocationId", out _) && r.GetProperty("target").GetString() == "Answer");
        var invocationId = invocation.GetProperty("invocationId").GetString()!;

        // On the server that owns the connection, as SignalR's dispatcher would call it for a completion from another one.
        var refused = await Record.ExceptionAsync(() => deployment.SetResultAsync(0, "someone-else", CompletionMessage.WithResult(invocationId, 1)));
        await client.SendAsync($$"""{"type":3,"invocationId":"{{invocationId}}","result":7}""");
        var value = await waiting.DefaultTimeout();
        return $"{Describe(refused, invocationId)}; then {value}";
    });

    [Fact]
    public Task A_plain_value_handed_to_the_manager_survives_the_relay() => SameOnBothAsync(async deployment =>
    {
        await using var client = await deployment.ConnectRawAsync(0);
        var waiting = deployment.Client(1, client.ConnectionId).InvokeAsync<Dictionary<string, int>>("Answer", CancellationToken.None);
        var invocation = await client.ReceiveAsync(r => r.TryGetProperty("invocationId", out _) && r.GetProperty("target").GetString() == "Answer");
        // Not a RawResult (as a custom protocol or code calling the manager directly would hand it over).
        await deployment.SetResultAsync(0, client.ConnectionId, CompletionMessage.WithResult(invocation.GetProperty("invocationId").GetString()!, new Dictionary<string, int> { ["n"] = 5 }));
        return (await waiting.DefaultTimeout())["n"];
    });

    /// <summary>Runs <paramref name="scenario"/> on Microsoft's backplane and on ours and asserts the caller saw the same.</summary>
    private async Task SameOnBothAsync<T>(Func<ReferenceDeployment, Task<T>> scenario)
    {
        var outcomes = new List<string>();
        foreach (var start in new Func<string, Task<ReferenceDeployment>>[] { ReferenceDeployment.MicrosoftsAsync, ReferenceDeployment.OursAsync })
        {
            await using var deployment = await start(redis.ConnectionString);
            string outcome;
            try
            {
                outcome = "value " + System.Text.Json.JsonSerializer.Serialize(await scenario(deployment));
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                outcome = Describe(ex, null);
            }
            output.WriteLine($"{deployment.Name}: {outcome}");
            outcomes.Add(outcome);
        }
        Assert.Equal(outcomes[0], outcomes[1]);
    }

    /// <summary>An exception as the caller sees it, with the parts that differ by nature (ids) taken out.</summary>
    private static string Describe(Exception? ex, string? invocationId)
    {
        if (ex is null)
        {
            return "no exception";
        }
        var message = invocationId is null ? ex.Message : ex.Message.Replace(invocationId, "{invocation}", StringComparison.Ordinal);
        return $"{ex.GetType().Name}: {Ids().Replace(message, "{id}")}";
    }

    // Connection ids of either backplane, as they appear in messages.
    [GeneratedRegex("'[A-Za-z0-9_-]{16,}'")]
    private static partial Regex Ids();
}

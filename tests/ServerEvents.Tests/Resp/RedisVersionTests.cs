using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerEvents.Redis;
using ServerEvents.Redis.Internal;
using ServerEvents.Resp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Resp;

public sealed class RedisVersionTests
{
    [Fact]
    public async Task A_Redis_older_than_7_is_refused_at_start_up_with_the_reason()
    {
        // A stand-in that answers the handshake and INFO as Redis 6.2 would.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var info = "# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\n";
            foreach (var reply in new[] { "+OK\r\n", $"${Encoding.ASCII.GetByteCount(info)}\r\n{info}\r\n" })
            {
                _ = await stream.ReadAsync(buffer);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(reply));
            }
            _ = await stream.ReadAsync(buffer);
        });
        var options = Options.Create(new RedisBackplaneOptions { Connection = RedisConnectionOptions.Parse($"127.0.0.1:{port}"), Prefix = "v" });
        await using var backplane = new RedisBackplane(options, new ServerIdentity(), NullLoggerFactory.Instance);

        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => backplane.EnsureConnectedAsync().AsTask().DefaultTimeout());
        Assert.Contains("version 6.2.14", refused.Message, StringComparison.Ordinal);
        Assert.Contains("needs Redis 7.0 or later", refused.Message, StringComparison.Ordinal);
        listener.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

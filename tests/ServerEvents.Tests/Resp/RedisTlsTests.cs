using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using ServerEvents.Resp;
using ServerEvents.Tests.Fixtures;

namespace ServerEvents.Tests.Resp;

/// <summary>TLS through SslStream against a real redis-server started with a throw-away certificate.</summary>
[Trait("Category", "Redis")]
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "redis-tls-" + Guid.NewGuid().ToString("N"));
    private X509Certificate2 _certificate = null!;
    private RedisServer _server = null!;
    private int _tlsPort;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var cert = Path.Combine(_folder, "redis.crt");
        var keyFile = Path.Combine(_folder, "redis.key");
        await File.WriteAllTextAsync(cert, _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        _tlsPort = RedisServer.FreePort();
        _server = await RedisServer.StartAsync("--tls-port", _tlsPort.ToString(), "--tls-cert-file", cert, "--tls-key-file", keyFile,
            "--tls-ca-cert-file", cert, "--tls-auth-clients", "no");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Commands_work_over_TLS_with_a_trusted_certificate()
    {
        var options = RedisConnectionOptions.Parse($"localhost:{_tlsPort},ssl=true,name=tls-test");
        var thumbprint = _certificate.Thumbprint;
        options.CertificateValidation = (_, presented, _, _) => presented is not null && new X509Certificate2(presented).Thumbprint == thumbprint;
        await using var connection = new RedisConnection(options, NullLogger.Instance);
        await connection.ConnectAsync().DefaultTimeout();

        await connection.ExecuteAsync(RespCommand.Create("SET", "tls:key", "over tls")).DefaultTimeout();
        Assert.Equal("over tls", (await connection.ExecuteAsync(RespCommand.Create("GET", "tls:key")).DefaultTimeout()).AsString());
        var clients = (await connection.ExecuteAsync(RespCommand.Create("CLIENT", "LIST")).DefaultTimeout()).AsString()!;
        Assert.Contains("name=tls-test-cmd", clients);
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_the_connection_with_a_clear_error()
    {
        var options = RedisConnectionOptions.Parse($"localhost:{_tlsPort},ssl=true");
        await using var connection = new RedisConnection(options, NullLogger.Instance);
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.ConnectAsync().DefaultTimeout());
        Assert.Contains($"localhost:{_tlsPort}", error.Message);
        Assert.IsType<System.Security.Authentication.AuthenticationException>(error.InnerException);
    }
}

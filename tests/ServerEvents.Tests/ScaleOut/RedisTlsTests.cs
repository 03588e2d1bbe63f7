using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using ServerEvents.Redis;
using ServerEvents.Tests.Fixtures;
using StackExchange.Redis;

namespace ServerEvents.Tests.ScaleOut;

/// <summary>The back-end over TLS (StackExchange.Redis's own) against a real redis-server started with a throw-away certificate.</summary>
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
    public async Task The_back_end_works_over_TLS_with_a_trusted_certificate()
    {
        var thumbprint = _certificate.Thumbprint;
        await using var cluster = await TestCluster.StartAsync(2, services => services.AddServerEvents().AddRedis($"localhost:{_tlsPort},ssl=true,name=tls-test", o =>
        {
            o.Prefix = "tls";
            o.Configuration.CertificateValidation += (_, presented, _, _) => presented is not null && new X509Certificate2(presented).Thumbprint == thumbprint;
        }), app => app.MapServerEvents("/hub"));
        var client = await cluster.ConnectAsync(0, "home");

        await cluster.Api(1).NotifyChannelAsync("home", "cmd.secret", "over tls").DefaultTimeout();

        await client.WaitForAsync(e => e.Selector == "cmd.secret" && e.Json == "\"over tls\"");
        await using var admin = await _server.ConnectAsync();
        Assert.Contains("name=tls-test", (await admin.ExecuteAsync("CLIENT", "LIST")).ToString());
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_the_start_with_a_clear_error_naming_the_endpoint()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestCluster.StartAsync(1,
            services => services.AddServerEvents().AddRedis($"localhost:{_tlsPort},ssl=true,password=hunter2,connectTimeout=2000", o => o.Prefix = "tls"),
            app => app.MapServerEvents("/hub")).DefaultTimeout());
        Assert.IsType<RedisUnreachableException>(error);
        Assert.IsType<RedisConnectionException>(error.InnerException);
        Assert.Contains($"localhost:{_tlsPort}", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString());
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServerEvents.Tests.Fixtures;

/// <summary>A real Kestrel app server on 127.0.0.1 with a dynamic port.</summary>
public sealed class AppServer : IAsyncDisposable
{
    private AppServer(WebApplication app, Uri baseUri)
    {
        App = app;
        BaseUri = baseUri;
    }

    public WebApplication App { get; }

    public Uri BaseUri { get; }

    public IServiceProvider Services => App.Services;

    public IServerEvents ServerEvents => Services.GetRequiredService<IServerEvents>();

    public IHubContext<THub> HubContext<THub>() where THub : Hub => Services.GetRequiredService<IHubContext<THub>>();

    /// <summary>Starts a server; <paramref name="configureServices"/> registers Server Events (and its back-end), <paramref name="configureApp"/> maps endpoints.</summary>
    public static async Task<AppServer> StartAsync(Action<IServiceCollection> configureServices, Action<WebApplication> configureApp)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var failureLog = new FailureLog.Provider();
        builder.Logging.AddProvider(failureLog);
        builder.Services.AddAuthentication(TestAuthHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        configureServices(builder.Services);

        var app = builder.Build();
        app.UseWebSockets();
        app.UseAuthentication();
        configureApp(app);
        await app.StartAsync().DefaultTimeout();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        failureLog.Server = address;
        return new AppServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // A server that cannot stop (a request that never ends) fails its test instead of hanging the run.
        var stopped = Task.Run(async () =>
        {
            await App.StopAsync(stopping.Token);
            await App.DisposeAsync();
        });
        try
        {
            await stopped.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The app server at {BaseUri} did not stop within 30 s. Server warnings: {FailureLog.Recent()}");
        }
    }
}

using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Faultline.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Infrastructure;

/// <summary>
/// The real server listening on a loopback port, for clients that open their own connections (the
/// official Sentry SDKs, a Node process). Records every request that reaches the Sentry endpoints, so
/// tests can observe what an SDK sent and what it was answered.
/// </summary>
public sealed class KestrelFaultline : IAsyncDisposable
{
    private readonly FaultlineApp _app;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly ConcurrentQueue<SentryRequest> _requests;

    private KestrelFaultline(FaultlineApp app, WebApplicationFactory<Program> factory, ConcurrentQueue<SentryRequest> requests, Uri address)
    {
        _app = app;
        _factory = factory;
        _requests = requests;
        Address = address;
    }

    /// <summary>The server's base address, http://127.0.0.1:PORT/.</summary>
    public Uri Address { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>The server's database (for tests that query it directly).</summary>
    public TestDatabase Database => _app.Database;

    /// <summary>Requests to /api/{projectId}/envelope/, /store/ or /api/v1/events so far, with the answer given.</summary>
    public IReadOnlyList<SentryRequest> Requests => [.. _requests];

    public static async Task<KestrelFaultline> StartAsync(StoreKind kind, IReadOnlyDictionary<string, string?>? settings = null) =>
        Start(await TestDatabase.CreateAsync(kind), settings, ownsDatabase: true);

    /// <summary>Another node on a database the caller owns (several nodes share one PostgreSQL database); the caller disposes the database last.</summary>
    public static KestrelFaultline StartNode(TestDatabase database, IReadOnlyDictionary<string, string?>? settings = null) =>
        Start(database, settings, ownsDatabase: false);

    private static KestrelFaultline Start(TestDatabase database, IReadOnlyDictionary<string, string?>? settings, bool ownsDatabase)
    {
        // appsettings.json asks for port 8100; each test server takes a free loopback port instead.
        var merged = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Urls"] = "http://127.0.0.1:0" };
        var app = new FaultlineApp(database, merged, ownsDatabase);
        var requests = new ConcurrentQueue<SentryRequest>();
        var factory = app.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            services.AddSingleton<IStartupFilter>(new RecordingStartupFilter(requests))));
        factory.UseKestrel();
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var bound = new Uri(addresses.First());
        var address = new Uri($"http://127.0.0.1:{bound.Port}/");
        return new KestrelFaultline(app, factory, requests, address);
    }

    /// <summary>A user who owns a new organization with one project (as <see cref="FaultlineApp.CreateTenantAsync"/>), with a DSN for this server.</summary>
    public async Task<TestTenant> CreateTenantAsync(string organization)
    {
        var accounts = Services.GetRequiredService<AccountService>();
        var email = $"owner-{Guid.NewGuid():N}@{organization}.test";
        await accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
        var created = await accounts.CreateProjectAsync(organization + "-" + Guid.NewGuid().ToString("N")[..6], "web", email, default);
        var token = await accounts.CreateApiTokenAsync(email, "tests", default);
        var dsn = $"http://{created.Key.PublicKey}@{Address.Host}:{Address.Port}/{created.Project.Id}";
        return new TestTenant(created.Project.Id, created.Key.PublicKey, token, dsn);
    }

    public HttpClient ApiClient(string token)
    {
        var client = new HttpClient { BaseAddress = Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Requests that reached the envelope endpoint of one project.</summary>
    public IReadOnlyList<SentryRequest> EnvelopeRequests(long projectId) =>
        [.. _requests.Where(r => r.Path.EndsWith($"/api/{projectId}/envelope/", StringComparison.Ordinal))];

    /// <summary>Requests that reached the native ingest endpoint, POST /api/v1/events (any project).</summary>
    public IReadOnlyList<SentryRequest> NativeIngestRequests() =>
        [.. _requests.Where(r => r.Path == "/api/v1/events")];

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _app.DisposeAsync();
    }

    private sealed class RecordingStartupFilter(ConcurrentQueue<SentryRequest> requests) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                var path = context.Request.Path.Value ?? "";
                var recorded = path.EndsWith("/envelope/", StringComparison.Ordinal) || path.EndsWith("/store/", StringComparison.Ordinal)
                    || (path == "/api/v1/events" && HttpMethods.IsPost(context.Request.Method));
                await nextMiddleware(context);
                if (recorded)
                {
                    requests.Enqueue(new SentryRequest(
                        path, context.Response.StatusCode,
                        context.Response.Headers.RetryAfter.ToString(),
                        context.Response.Headers["X-Sentry-Rate-Limits"].ToString(),
                        DateTimeOffset.UtcNow));
                }
            });
            next(app);
        };
    }
}

/// <summary>One request to an ingest endpoint and the answer: status, Retry-After, X-Sentry-Rate-Limits, and when it was answered.</summary>
public sealed record SentryRequest(string Path, int StatusCode, string RetryAfter, string RateLimits, DateTimeOffset At);

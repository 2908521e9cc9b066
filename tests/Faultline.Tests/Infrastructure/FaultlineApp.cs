using System.Net.Http.Headers;
using Faultline.Accounts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Infrastructure;

/// <summary>
/// The real server in-process on a fresh database of one engine. With ownsDatabase false several
/// servers (nodes) share the database, and the test drops it once, after all of them.
/// </summary>
public sealed class FaultlineApp(TestDatabase database, IReadOnlyDictionary<string, string?>? settings = null, bool ownsDatabase = true) : WebApplicationFactory<Program>
{
    public TestDatabase Database { get; } = database;

    public static async Task<FaultlineApp> StartAsync(StoreKind kind, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var app = new FaultlineApp(await TestDatabase.CreateAsync(kind), settings);
        _ = app.Server; // starts the host: migrations run before the first request
        return app;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Faultline:PublicUrl", "http://localhost:8100");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in Database.Settings)
        {
            builder.UseSetting(key, value);
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }

    public AccountService Accounts => Services.GetRequiredService<AccountService>();

    /// <summary>A user who owns a new organization with one project; returns the project, its key and the user's API token.</summary>
    public async Task<TestTenant> CreateTenantAsync(string organization)
    {
        var email = $"owner-{Guid.NewGuid():N}@{organization}.test";
        await Accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
        var created = await Accounts.CreateProjectAsync(organization + "-" + Guid.NewGuid().ToString("N")[..6], "web", email, default);
        var token = await Accounts.CreateApiTokenAsync(email, "tests", default);
        return new TestTenant(created.Project.Id, created.Key.PublicKey, token, created.Dsn);
    }

    public HttpClient IngestClient(string publicKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Faultline-Key", publicKey);
        return client;
    }

    public HttpClient ApiClient(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (ownsDatabase)
        {
            await Database.DisposeAsync();
        }
    }
}

public sealed record TestTenant(long ProjectId, string PublicKey, string Token, string Dsn);

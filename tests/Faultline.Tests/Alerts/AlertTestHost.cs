using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Alerts;
using Faultline.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Faultline.Tests.Alerts;

/// <summary>The real server on a fresh database with a <see cref="FakeTimeProvider"/> clock, plus helpers to drive alerts.</summary>
public sealed class AlertTestHost : IAsyncDisposable
{
    private readonly FaultlineApp _app;
    private readonly bool _ownsDatabase;

    private AlertTestHost(FaultlineApp app, WebApplicationFactory<Program> factory, FakeTimeProvider time, bool ownsDatabase)
    {
        _app = app;
        _ownsDatabase = ownsDatabase;
        Factory = factory;
        Time = time;
    }

    public WebApplicationFactory<Program> Factory { get; }

    public FakeTimeProvider Time { get; }

    public TestDatabase Database => _app.Database;

    public IServiceProvider Services => Factory.Services;

    public static async Task<AlertTestHost> StartAsync(StoreKind kind, IReadOnlyDictionary<string, string?>? settings = null, FakeTimeProvider? time = null, TestDatabase? database = null)
    {
        // Whole seconds: the stores keep microseconds and the tests compare instants.
        time ??= new FakeTimeProvider(new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero));
        var merged = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Faultline:Alerts:Delivery:FirstRetryDelay"] = "00:00:01",
        };
        var app = new FaultlineApp(database ?? await TestDatabase.CreateAsync(kind), merged);
        var factory = app.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(time)));
        _ = factory.Server;
        return new AlertTestHost(app, factory, time, ownsDatabase: database is null);
    }

    /// <summary>A second server process on the same database and clock (a restart, or a second node).</summary>
    public async Task<AlertTestHost> StartAnotherAsync(IReadOnlyDictionary<string, string?>? settings = null) =>
        await StartAsync(Database.Kind, settings, Time, Database);

    public async Task<TestTenantWithOrg> CreateTenantAsync(string organization)
    {
        var accounts = Services.GetRequiredService<AccountService>();
        var email = $"owner-{Guid.NewGuid():N}@{organization}.test";
        await accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
        var slug = organization + "-" + Guid.NewGuid().ToString("N")[..6];
        var created = await accounts.CreateProjectAsync(slug, "web", email, default);
        var token = await accounts.CreateApiTokenAsync(email, "tests", default);
        return new TestTenantWithOrg(created.Project.Id, created.Key.PublicKey, token, slug);
    }

    public HttpClient Api(TestTenantWithOrg tenant)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.Token);
        return client;
    }

    /// <summary>Sends events (a JSON array) through native ingest and waits until the evaluator has seen them.</summary>
    public async Task IngestAsync(TestTenantWithOrg tenant, string json)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Faultline-Key", tenant.PublicKey);
        var response = await client.PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        await Services.GetRequiredService<AlertEvaluator>().WhenIdleAsync();
    }

    /// <summary><paramref name="count"/> error events with the same exception (one issue), in one request.</summary>
    public Task IngestErrorsAsync(TestTenantWithOrg tenant, int count, string type = "TimeoutException", string level = "error", string environment = "production")
    {
        var one = """{"level":"LEVEL","environment":"ENVIRONMENT","release":"2.4.1","exception":[{"type":"TYPE","value":"upstream timed out","stacktrace":{"frames":[{"module":"Shop.Web","function":"Main","in_app":true,"filename":"Program.cs","lineno":10},{"module":"Shop.Orders","function":"PlaceOrder","in_app":true,"filename":"Orders.cs","lineno":42}]}}]}"""
            .Replace("LEVEL", level, StringComparison.Ordinal).Replace("ENVIRONMENT", environment, StringComparison.Ordinal).Replace("TYPE", type, StringComparison.Ordinal);
        return IngestAsync(tenant, "[" + string.Join(",", Enumerable.Repeat(one, count)) + "]");
    }

    public async Task<JsonElement> PostJsonAsync(TestTenantWithOrg tenant, string path, object body, System.Net.HttpStatusCode expected = System.Net.HttpStatusCode.Created)
    {
        var response = await Api(tenant).PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetJsonAsync(TestTenantWithOrg tenant, string path)
    {
        var response = await Api(tenant).GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<int> DispatchAsync() => Services.GetRequiredService<OutboxDispatcher>().DispatchDueAsync(CancellationToken.None);

    /// <summary>
    /// Moves the fake clock in steps until the condition holds: background work waiting on the clock
    /// (Polly retry delays, the outbox poll) runs at each step. Fails after the given number of steps.
    /// </summary>
    public async Task AdvanceUntilAsync(Func<Task<bool>> condition, TimeSpan step, int maxSteps = 200)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            if (await condition())
            {
                return;
            }
            Time.Advance(step);
            await Task.Delay(20);
        }
        Assert.Fail($"The condition did not hold after {maxSteps} steps of {step}.");
    }

    /// <summary>Waits (real time, bounded) for background work that does not depend on the clock.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("The condition did not hold in time.");
            }
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        if (_ownsDatabase)
        {
            await _app.DisposeAsync(); // drops the database
        }
    }
}

public sealed record TestTenantWithOrg(long ProjectId, string PublicKey, string Token, string Organization);

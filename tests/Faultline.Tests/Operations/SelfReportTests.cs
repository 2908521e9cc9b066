using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Operations.SelfReport;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Faultline.Tests.Operations;

/// <summary>Faultline's own unhandled exceptions land as events in its internal project; rate limited; never recursive.</summary>
public abstract class SelfReportTests(StoreKind kind)
{
    private const string Boom = "self-report test boom";

    /// <summary>The real server plus a route that throws, behind the real exception handler, and a background service that fails once.</summary>
    private sealed class ThrowingServer : IAsyncDisposable
    {
        private readonly FaultlineApp _app;

        public ThrowingServer(FaultlineApp app, bool failingBackgroundService)
        {
            _app = app;
            Factory = app.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
            {
                services.AddSingleton<IStartupFilter, ThrowingRoute>();
                if (failingBackgroundService)
                {
                    // The default (StopHost) would end the test server; the failure is logged and reported either way.
                    services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
                    services.AddHostedService<FailingBackgroundService>();
                }
            }));
        }

        public WebApplicationFactory<Program> Factory { get; }

        public SelfReporter Reporter => Factory.Services.GetRequiredService<SelfReporter>();

        public async ValueTask DisposeAsync()
        {
            await Factory.DisposeAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed class ThrowingRoute : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            // After the app's pipeline, so the exception passes through its exception handler.
            app.Map("/test/boom", b => b.Run(_ => throw new InvalidOperationException(Boom)));
        };
    }

    private sealed class FailingBackgroundService : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            throw new TimeoutException("background test failure");
        }
    }

    private async Task<ThrowingServer> StartAsync(Dictionary<string, string?>? settings = null, bool failingBackgroundService = false) =>
        new(new FaultlineApp(await TestDatabase.CreateAsync(kind), settings), failingBackgroundService);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task An_unhandled_request_exception_becomes_an_issue_in_the_internal_project_visible_to_admins()
    {
        await using var server = await StartAsync();
        var accounts = server.Factory.Services.GetRequiredService<Faultline.Accounts.AccountService>();
        await accounts.CreateUserAsync("admin@self.test", "a long enough password", isAdmin: true, default);
        var token = await accounts.CreateApiTokenAsync("admin@self.test", "tests", default);

        var response = await server.Factory.CreateClient().GetAsync("/test/boom");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain(Boom, await response.Content.ReadAsStringAsync()); // the client sees no internals
        await WaitUntilAsync(() => server.Reporter.Sent >= 1, "the report to be stored");

        // Created on demand as faultline-internal/faultline, owned by the admins.
        var key = await server.Factory.Services.GetRequiredService<IOperationsStore>().FindProjectKeyBySlugAsync("faultline-internal", "faultline", default);
        Assert.NotNull(key);
        var api = server.Factory.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var projects = await api.GetFromJsonAsync<JsonElement>("/api/v1/projects");
        Assert.Contains(projects.EnumerateArray(), p => p.GetProperty("id").GetInt64() == key.ProjectId);
        var issues = await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{key.ProjectId}/issues");
        var issue = Assert.Single(issues.GetProperty("items").EnumerateArray());
        Assert.Equal($"System.InvalidOperationException: {Boom}", issue.GetProperty("title").GetString());
        Assert.Equal("error", issue.GetProperty("level").GetString());
    }

    [Fact]
    public async Task An_admin_created_after_the_internal_project_exists_sees_it()
    {
        await using var server = await StartAsync();
        await server.Factory.CreateClient().GetAsync("/test/boom");
        await WaitUntilAsync(() => server.Reporter.Sent >= 1, "the report to be stored");
        var key = await server.Factory.Services.GetRequiredService<IOperationsStore>().FindProjectKeyBySlugAsync("faultline-internal", "faultline", default);
        Assert.NotNull(key);

        var accounts = server.Factory.Services.GetRequiredService<Faultline.Accounts.AccountService>();
        await accounts.CreateUserAsync("late-admin@self.test", "a long enough password", isAdmin: true, default);
        await accounts.CreateUserAsync("plain@self.test", "a long enough password", isAdmin: false, default);
        var api = server.Factory.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await accounts.CreateApiTokenAsync("late-admin@self.test", "tests", default));
        var projects = await api.GetFromJsonAsync<JsonElement>("/api/v1/projects");
        Assert.Contains(projects.EnumerateArray(), p => p.GetProperty("id").GetInt64() == key.ProjectId);

        // A user who is not an admin does not join it.
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await accounts.CreateApiTokenAsync("plain@self.test", "tests", default));
        projects = await api.GetFromJsonAsync<JsonElement>("/api/v1/projects");
        Assert.DoesNotContain(projects.EnumerateArray(), p => p.GetProperty("id").GetInt64() == key.ProjectId);
    }

    [Fact]
    public async Task A_failing_background_service_is_reported()
    {
        await using var server = await StartAsync(failingBackgroundService: true);
        _ = server.Factory.Server;

        await WaitUntilAsync(() => server.Reporter.Sent >= 1, "the background failure to be stored");
        var key = await server.Factory.Services.GetRequiredService<IOperationsStore>().FindProjectKeyBySlugAsync("faultline-internal", "faultline", default);
        var issues = await server.Factory.Services.GetRequiredService<IIssueStore>().ListIssuesAsync(key!.ProjectId, new IssueListRequest(Faultline.Search.SearchQuery.Empty, IssueSort.LastSeen, 50, null), default);
        Assert.Contains(issues.Items, i => i.Title == "System.TimeoutException: background test failure");
    }

    [Fact]
    public async Task Reports_beyond_the_rate_limit_are_dropped()
    {
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Faultline:SelfReport:MaxReportsPerMinute"] = "2" });
        var client = server.Factory.CreateClient();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync("/test/boom")).StatusCode);
        }

        await WaitUntilAsync(() => server.Reporter.Sent == 2, "two reports");
        var queue = server.Factory.Services.GetRequiredService<SelfReportQueue>();
        Assert.True(queue.Dropped >= 3, $"dropped {queue.Dropped}"); // 6 minus the 2 tokens, minus at most one refilled
        Assert.Equal(0, server.Reporter.Failed);
    }

    [Fact]
    public async Task A_failure_while_reporting_is_only_logged_and_never_reported_again()
    {
        // A key that does not exist: every report fails inside the reporter.
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Faultline:SelfReport:ProjectKey"] = "no-such-key" });
        var client = server.Factory.CreateClient();

        Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync("/test/boom")).StatusCode);
        await WaitUntilAsync(() => server.Reporter.Failed == 1, "the report to fail");
        await Task.Delay(1000); // a recursive reporter would have failed again by now

        Assert.Equal(1, server.Reporter.Failed);
        Assert.Equal(0, server.Reporter.Sent);
        Assert.Equal(0, server.Factory.Services.GetRequiredService<SelfReportQueue>().Dropped);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Disabled_self_reporting_sends_nothing()
    {
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Faultline:SelfReport:Enabled"] = "false" });
        Assert.Equal(HttpStatusCode.InternalServerError, (await server.Factory.CreateClient().GetAsync("/test/boom")).StatusCode);
        await Task.Delay(500);
        Assert.Equal(0, server.Reporter.Sent + server.Reporter.Failed);
        Assert.Null(await server.Factory.Services.GetRequiredService<IOperationsStore>().FindProjectKeyBySlugAsync("faultline-internal", "faultline", default));
    }
}

public sealed class SqliteSelfReportTests() : SelfReportTests(StoreKind.Sqlite);

public sealed class PostgresSelfReportTests() : SelfReportTests(StoreKind.Postgres);

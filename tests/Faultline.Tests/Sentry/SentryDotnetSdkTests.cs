using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sentry;

/// <summary>
/// The official Sentry SDK for .NET (NuGet Sentry) reporting to a listening Faultline through the
/// project's DSN, unchanged. The static SentrySdk is global and tests run in parallel, so each test
/// builds its own <see cref="SentryClient"/> and <see cref="Scope"/>.
/// </summary>
public abstract class SentryDotnetSdkTests(StoreKind kind) : IAsyncLifetime
{
    private const string Release = "faultline-dotnet-test@1.0.0";
    private const string Environment = "sdk-test";
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(15);

    private KestrelFaultline _server = null!;
    private TestTenant _tenant = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await KestrelFaultline.StartAsync(kind);
        _tenant = await _server.CreateTenantAsync("dotnet");
        _api = _server.ApiClient(_tenant.Token);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    private static SentryOptions Options(string dsn) => new()
    {
        Dsn = dsn,
        Release = Release,
        Environment = Environment,
        IsGlobalModeEnabled = false,
        AutoSessionTracking = false,
        DisableFileWrite = true,
        // Client reports would add envelopes of their own; the rate-limit test counts envelopes.
        SendClientReports = false,
    };

    // One call site for every throw, so the stack traces are identical.
    private static void ChargeCard(int attempt) =>
        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"card declined on attempt {attempt}"));

    private static string CaptureChargeFailure(SentryClient client, int attempt)
    {
        try
        {
            ChargeCard(attempt);
            throw new UnreachableException();
        }
        catch (InvalidOperationException e)
        {
            return client.CaptureException(e).ToString();
        }
    }

    /// <summary>Sends what the client queued and checks that the server took every envelope.</summary>
    private async Task FlushAndAssertAcceptedAsync(SentryClient client, int envelopes)
    {
        await client.FlushAsync(FlushTimeout);
        var answers = _server.EnvelopeRequests(_tenant.ProjectId).Select(r => r.StatusCode).ToList();
        Assert.True(answers.Count == envelopes && answers.All(status => status == 200),
            $"Expected {envelopes} envelopes answered 200, the server answered: [{string.Join(", ", answers)}]");
    }

    private static async Task FlushAsync(SentryClient client) => await client.FlushAsync(FlushTimeout);

    private static void AssertSdk(JsonElement stored)
    {
        var sdk = stored.GetProperty("event").GetProperty("sdk");
        Assert.Equal("sentry.dotnet", sdk.GetProperty("name").GetString());
        Assert.Equal("6.12.1", sdk.GetProperty("version").GetString());
    }

    [Fact]
    public async Task A_captured_exception_is_stored_with_its_type_value_and_stack_trace()
    {
        using var client = new SentryClient(Options(_tenant.Dsn));
        var id = CaptureChargeFailure(client, 1);
        await FlushAndAssertAcceptedAsync(client, 1);

        var stored = await StoredEvents.WaitForEventAsync(_api, id);
        Assert.Equal(id, stored.GetProperty("eventId").GetString());
        Assert.Equal("error", stored.GetProperty("level").GetString());
        Assert.Equal("System.InvalidOperationException", stored.GetProperty("exceptionType").GetString());
        Assert.Equal("card declined on attempt 1", stored.GetProperty("exceptionValue").GetString());
        Assert.Equal(Release, stored.GetProperty("release").GetString());
        Assert.Equal(Environment, stored.GetProperty("environment").GetString());
        AssertSdk(stored);

        var exception = stored.GetProperty("event").GetProperty("exception").EnumerateArray().Last();
        var frames = exception.GetProperty("frames").EnumerateArray().ToList();
        Assert.NotEmpty(frames);
        // Caller first, crash site last: the throwing helper is the last frame, and it is in-app.
        var crashSite = frames[^1];
        Assert.Contains(nameof(ChargeCard), crashSite.GetProperty("function").GetString(), StringComparison.Ordinal);
        Assert.True(crashSite.GetProperty("in_app").GetBoolean());
        Assert.Contains(frames, f => f.TryGetProperty("function", out var function) &&
            function.GetString()!.Contains(nameof(CaptureChargeFailure), StringComparison.Ordinal));
        Assert.Contains(frames, f => f.TryGetProperty("lineno", out var line) && line.ValueKind == JsonValueKind.Number);

        var issue = await StoredEvents.IssueOfAsync(_api, stored);
        Assert.Equal("System.InvalidOperationException: card declined on attempt 1", issue.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_message_is_stored_with_its_level()
    {
        using var client = new SentryClient(Options(_tenant.Dsn));
        var id = client.CaptureMessage("Queue is backing up: 1200 jobs waiting", SentryLevel.Warning).ToString();
        await FlushAndAssertAcceptedAsync(client, 1);

        var stored = await StoredEvents.WaitForEventAsync(_api, id);
        Assert.Equal("warning", stored.GetProperty("level").GetString());
        Assert.Equal("Queue is backing up: 1200 jobs waiting", stored.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("exceptionType").ValueKind);
        Assert.Equal(Release, stored.GetProperty("release").GetString());
        AssertSdk(stored);
        var issue = await StoredEvents.IssueOfAsync(_api, stored);
        Assert.Equal("Queue is backing up: 1200 jobs waiting", issue.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Tags_user_breadcrumbs_release_and_environment_are_stored()
    {
        var options = Options(_tenant.Dsn);
        using var client = new SentryClient(options);
        var scope = new Scope(options);
        scope.SetTag("region", "eu-west");
        scope.SetTag("feature", "checkout");
        scope.User = new SentryUser { Id = "u-42", Email = "ada@example.com", Username = "ada", IpAddress = "10.1.2.3" };
        scope.AddBreadcrumb(new Breadcrumb("pressed Pay", "user", category: "ui.click", level: BreadcrumbLevel.Info));
        scope.AddBreadcrumb(new Breadcrumb("POST /api/checkout", "http", category: "http", level: BreadcrumbLevel.Warning));
        var id = client.CaptureEvent(new SentryEvent { Message = "Checkout failed for a scoped user", Level = SentryLevel.Error }, scope).ToString();
        await FlushAndAssertAcceptedAsync(client, 1);

        var stored = await StoredEvents.WaitForEventAsync(_api, id);
        Assert.Equal("Checkout failed for a scoped user", stored.GetProperty("message").GetString());
        Assert.Equal("error", stored.GetProperty("level").GetString());
        Assert.Equal(Release, stored.GetProperty("release").GetString());
        Assert.Equal(Environment, stored.GetProperty("environment").GetString());

        var e = stored.GetProperty("event");
        Assert.Equal("eu-west", e.GetProperty("tags").GetProperty("region").GetString());
        Assert.Equal("checkout", e.GetProperty("tags").GetProperty("feature").GetString());
        var user = e.GetProperty("user");
        Assert.Equal("u-42", user.GetProperty("id").GetString());
        Assert.Equal("ada@example.com", user.GetProperty("email").GetString());
        Assert.Equal("ada", user.GetProperty("username").GetString());
        Assert.Equal("10.1.2.3", user.GetProperty("ip_address").GetString());
        var breadcrumbs = e.GetProperty("breadcrumbs").EnumerateArray().ToList();
        Assert.Equal(2, breadcrumbs.Count);
        Assert.Equal("pressed Pay", breadcrumbs[0].GetProperty("message").GetString());
        Assert.Equal("ui.click", breadcrumbs[0].GetProperty("category").GetString());
        // The SDK leaves out the level when it is info, Sentry's default for breadcrumbs.
        Assert.Equal("info", breadcrumbs[0].TryGetProperty("level", out var level) ? level.GetString() : "info");
        Assert.Equal("POST /api/checkout", breadcrumbs[1].GetProperty("message").GetString());
        Assert.Equal("warning", breadcrumbs[1].GetProperty("level").GetString());
        Assert.Equal(Release, e.GetProperty("release").GetString());
        Assert.Equal(Environment, e.GetProperty("environment").GetString());
        AssertSdk(stored);
    }

    [Fact]
    public async Task The_same_exception_from_one_call_site_twice_is_one_issue_with_two_events()
    {
        using var client = new SentryClient(Options(_tenant.Dsn));
        var ids = new List<string>();
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            ids.Add(CaptureChargeFailure(client, attempt));
        }
        await FlushAndAssertAcceptedAsync(client, 2);

        var first = await StoredEvents.WaitForEventAsync(_api, ids[0]);
        var second = await StoredEvents.WaitForEventAsync(_api, ids[1]);
        Assert.Equal(first.GetProperty("issueId").GetInt64(), second.GetProperty("issueId").GetInt64());
        var issues = await StoredEvents.IssuesAsync(_api, _tenant.ProjectId);
        var issue = Assert.Single(issues.EnumerateArray());
        Assert.Equal(2, issue.GetProperty("count").GetInt64());
        Assert.StartsWith("System.InvalidOperationException: card declined on attempt", issue.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rate_limited_project_answers_429_and_the_SDK_stops_sending_for_the_announced_time()
    {
        // One event of burst, then one every 100 s: the second envelope is refused.
        await using var server = await KestrelFaultline.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "0.01",
            ["Faultline:Ingest:RateLimit:Burst"] = "1",
        });
        var tenant = await server.CreateTenantAsync("limited");
        using var api = server.ApiClient(tenant.Token);
        using var client = new SentryClient(Options(tenant.Dsn));

        var accepted = client.CaptureMessage("within the limit").ToString();
        await FlushAsync(client);
        var refused = client.CaptureMessage("over the limit").ToString();
        await FlushAsync(client);

        var requests = server.EnvelopeRequests(tenant.ProjectId);
        Assert.Equal([200, 429], requests.Select(r => r.StatusCode));
        var limited = requests[1];
        var retryAfter = int.Parse(limited.RetryAfter, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 10, 3600);
        Assert.Matches(@"^\d+:[a-z;]*error[a-z;]*:", limited.RateLimits);

        // Within the announced window the SDK drops events itself: nothing more reaches the server.
        for (var i = 0; i < 5; i++)
        {
            client.CaptureMessage(string.Create(CultureInfo.InvariantCulture, $"dropped by the SDK {i}"));
            CaptureChargeFailure(client, i);
        }
        await FlushAsync(client);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.True(DateTimeOffset.UtcNow < limited.At.AddSeconds(retryAfter), "The observation outlasted the announced window.");
        Assert.Equal(2, server.EnvelopeRequests(tenant.ProjectId).Count);

        await StoredEvents.WaitForEventAsync(api, accepted);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/events/{refused}")).StatusCode);
        Assert.Single((await StoredEvents.IssuesAsync(api, tenant.ProjectId)).EnumerateArray());
    }
}

public sealed class SqliteSentryDotnetSdkTests() : SentryDotnetSdkTests(StoreKind.Sqlite);

public sealed class PostgresSentryDotnetSdkTests() : SentryDotnetSdkTests(StoreKind.Postgres);

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Operations;

/// <summary>GET /metrics: Prometheus text with Faultline's, ASP.NET Core's and the runtime's metrics under their final names.</summary>
public abstract partial class MetricsEndpointTests(StoreKind kind) : IAsyncLifetime
{
    /// <summary>Every name the Grafana dashboards and docs/operations.md rely on.</summary>
    public static readonly string[] ExpectedNames =
    [
        "faultline_events_accepted_total",
        "faultline_events_rejected_total",
        "faultline_events_stored_total",
        "faultline_store_errors_total",
        "faultline_writer_commit_duration_seconds_bucket",
        "faultline_writer_batch_size_bucket",
        "faultline_writer_queue_depth",
        "faultline_issues_created_total",
        "faultline_live_subscribers",
        "http_server_request_duration_seconds_bucket",
        "dotnet_gc_collections_total",
        "dotnet_process_memory_working_set_bytes",
        "dotnet_thread_pool_thread_count_total", // the runtime declares it an observable counter, so it gets _total
    ];

    private FaultlineApp _app = null!;

    public async Task InitializeAsync() => _app = await FaultlineApp.StartAsync(kind);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task After_ingest_the_metrics_carry_their_prometheus_names()
    {
        var tenant = await _app.CreateTenantAsync("metrics");
        var accepted = await _app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events",
            new StringContent("""[{"message":"first"},{"message":"second","level":"error"}]""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var refused = await _app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events",
            new StringContent("""{"level":42}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var response = await _app.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var names = MetricNames(text);

        var missing = ExpectedNames.Where(n => !names.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"Missing from /metrics: {string.Join(", ", missing)}.\nServed:\n{string.Join("\n", names.Order())}");
        Assert.Matches(@"faultline_events_accepted_total\{[^}]*endpoint=""native""[^}]*\} [1-9]", text);
        Assert.Matches(@"faultline_events_rejected_total\{[^}]*endpoint=""native""[^}]*reason=""invalid_event""[^}]*\} [1-9]", text);
        Assert.Matches(@"faultline_issues_created_total(\{[^}]*\})? [1-9]", text);
        // No doubled prefix, and every counter ends in _total (the OpenTelemetry → Prometheus naming rules).
        Assert.DoesNotContain("faultline_faultline", text);
        Assert.All(TypeLines().Matches(text).Where(m => m.Groups[2].Value == "counter"), m => Assert.EndsWith("_total", m.Groups[1].Value));
    }

    private static HashSet<string> MetricNames(string text) =>
        [.. text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('{', ' ')[0])];

    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLines();
}

public sealed class SqliteMetricsEndpointTests() : MetricsEndpointTests(StoreKind.Sqlite);

public sealed class PostgresMetricsEndpointTests() : MetricsEndpointTests(StoreKind.Postgres);

/// <summary>Faultline:Metrics restricts /metrics by client network and bearer token; real Kestrel so the client address is real.</summary>
public sealed class MetricsAccessTests
{
    [Fact]
    public async Task A_client_outside_the_allowed_networks_gets_403_and_one_inside_gets_the_metrics()
    {
        await using (var outside = await KestrelFaultline.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?> { ["Faultline:Metrics:AllowedNetworks:0"] = "10.0.0.0/8" }))
        {
            var response = await new HttpClient { BaseAddress = outside.Address }.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("AllowedNetworks", await response.Content.ReadAsStringAsync());
        }
        await using var inside = await KestrelFaultline.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Faultline:Metrics:AllowedNetworks:0"] = "10.0.0.0/8",
            ["Faultline:Metrics:AllowedNetworks:1"] = "127.0.0.0/8",
        });
        var allowed = await new HttpClient { BaseAddress = inside.Address }.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("faultline_store_errors_total", await allowed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_a_bearer_token_configured_only_requests_carrying_it_get_the_metrics()
    {
        const string Token = "0123456789abcdef0123456789abcdef";
        await using var app = await FaultlineApp.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?> { ["Faultline:Metrics:BearerToken"] = Token });
        var client = app.CreateClient();

        var none = await client.GetAsync("/metrics");
        using var wrongRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token[..^1] + "0") } };
        var wrong = await client.SendAsync(wrongRequest);
        using var rightRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
        var right = await client.SendAsync(rightRequest);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("faultline_store_errors_total", await right.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_malformed_network_stops_the_server_at_start_with_the_setting_named()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var app = await FaultlineApp.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?> { ["Faultline:Metrics:AllowedNetworks:0"] = "10.0.0.0/99" });
        });
        Assert.Contains("AllowedNetworks", failure.ToString());
    }
}

/// <summary>
/// OpenTelemetry matches meters by name across the process: without the per-host filter, a second host's
/// instruments joined this host's series (the parallel test suite showed other hosts' syslog and Sentry
/// counts, and series vanishing when those hosts stopped).
/// </summary>
public sealed partial class MetricsIsolationTests
{
    [Fact]
    public async Task Two_hosts_in_one_process_each_export_only_their_own_counts_and_one_stopping_leaves_the_other_counting()
    {
        await using var first = await FaultlineApp.StartAsync(StoreKind.Sqlite);
        var firstTenant = await first.CreateTenantAsync("isolated-a");
        await using (var second = await FaultlineApp.StartAsync(StoreKind.Sqlite))
        {
            var secondTenant = await second.CreateTenantAsync("isolated-b");
            await IngestAsync(first, firstTenant, 1);
            await IngestAsync(second, secondTenant, 3);

            Assert.Equal(1, await AcceptedAsync(first));
            Assert.Equal(3, await AcceptedAsync(second));
        }

        await IngestAsync(first, firstTenant, 1);
        // The exporter caches a scrape for 300 ms; a stopped metric would stay at 1 for good.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        long accepted;
        while ((accepted = await AcceptedAsync(first)) != 2 && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Equal(2, accepted);
    }

    private static async Task IngestAsync(FaultlineApp app, TestTenant tenant, int events)
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, events).Select(i => $$"""{"message":"isolated {{i}}"}""")) + "]";
        var response = await app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>The host's native accepted-events counter as /metrics serves it (summed over its series).</summary>
    private static async Task<long> AcceptedAsync(FaultlineApp app)
    {
        var text = await app.CreateClient().GetStringAsync("/metrics");
        return NativeAccepted().Matches(text).Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^faultline_events_accepted_total\{[^}]*endpoint=""native""[^}]*\} (\d+)", RegexOptions.Multiline)]
    private static partial Regex NativeAccepted();
}

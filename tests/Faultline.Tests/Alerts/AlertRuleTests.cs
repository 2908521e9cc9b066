using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Alerts;

/// <summary>
/// Rule evaluation end to end on both engines: events go through ingest, the evaluator fires after
/// commit, the outbox delivers to a real local webhook receiver. Time is a FakeTimeProvider.
/// </summary>
public abstract class AlertRuleTests(StoreKind kind) : IAsyncLifetime
{
    private AlertTestHost _host = null!;
    private HttpReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await AlertTestHost.StartAsync(kind);
        _receiver = await HttpReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _host.DisposeAsync();
    }

    private async Task<(TestTenantWithOrg Tenant, long ChannelId)> TenantWithWebhookAsync(string organization = "acme")
    {
        var tenant = await _host.CreateTenantAsync(organization);
        var channel = await _host.PostJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/alert-channels",
            new { name = "hook", type = "webhook", url = new Uri(_receiver.Address, "hook").ToString(), secret = "a-very-secret-signing-key" });
        return (tenant, channel.GetProperty("id").GetInt64());
    }

    private async Task<long> RuleAsync(TestTenantWithOrg tenant, object rule) =>
        (await _host.PostJsonAsync(tenant, $"/api/v1/projects/{tenant.ProjectId}/alert-rules", rule)).GetProperty("id").GetInt64();

    private async Task<JsonElement[]> HistoryAsync(TestTenantWithOrg tenant, long ruleId) =>
        [.. (await _host.GetJsonAsync(tenant, $"/api/v1/alert-rules/{ruleId}/history")).EnumerateArray()];

    private async Task<int> DeliveredAsync(TestTenantWithOrg tenant)
    {
        await _host.DispatchAsync();
        var rows = await _host.GetJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/alert-deliveries?status=delivered");
        return rows.GetArrayLength();
    }

    private static object Threshold(long channelId, int cooldownSeconds = 600, string? environment = null, string? query = null) => new
    {
        name = "error storm", type = "threshold", threshold = 100, windowSeconds = 60, level = "error",
        environment, query, cooldownSeconds, channelIds = new[] { channelId },
    };

    [Fact]
    public async Task A_hundred_errors_in_a_minute_do_not_fire_and_the_hundred_and_first_fires_once()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var rule = await RuleAsync(tenant, Threshold(channel));

        await _host.IngestErrorsAsync(tenant, 60);
        _host.Time.Advance(TimeSpan.FromSeconds(20));
        await _host.IngestErrorsAsync(tenant, 40);
        Assert.Empty(await HistoryAsync(tenant, rule));

        _host.Time.Advance(TimeSpan.FromSeconds(20));
        await _host.IngestErrorsAsync(tenant, 1);
        await _host.IngestErrorsAsync(tenant, 30); // still above the threshold, inside the cooldown

        var history = await HistoryAsync(tenant, rule);
        Assert.Single(history);
        Assert.Equal("More than 100 matching events in 1 minute", history[0].GetProperty("reason").GetString());
        await AlertTestHost.WaitUntilAsync(async () => await DeliveredAsync(tenant) == 1);
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task Events_that_left_the_window_or_do_not_match_the_filters_do_not_count()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var staging = await RuleAsync(tenant, Threshold(channel, environment: "staging"));
        var byQuery = await RuleAsync(tenant, Threshold(channel, query: "PaymentException"));
        var all = await RuleAsync(tenant, Threshold(channel));

        await _host.IngestErrorsAsync(tenant, 70);
        _host.Time.Advance(TimeSpan.FromSeconds(61));
        await _host.IngestErrorsAsync(tenant, 70);
        await _host.IngestErrorsAsync(tenant, 20, level: "warning");
        Assert.Empty(await HistoryAsync(tenant, all));

        await _host.IngestErrorsAsync(tenant, 31);
        Assert.Single(await HistoryAsync(tenant, all));
        Assert.Empty(await HistoryAsync(tenant, staging));
        Assert.Empty(await HistoryAsync(tenant, byQuery));

        await _host.IngestErrorsAsync(tenant, 101, type: "PaymentException", environment: "staging");
        Assert.Single(await HistoryAsync(tenant, staging));
        Assert.Single(await HistoryAsync(tenant, byQuery));
    }

    [Fact]
    public async Task A_second_burst_inside_the_cooldown_does_not_notify_and_one_after_it_does()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var rule = await RuleAsync(tenant, Threshold(channel, cooldownSeconds: 600));

        await _host.IngestErrorsAsync(tenant, 101);
        _host.Time.Advance(TimeSpan.FromMinutes(5));
        await _host.IngestErrorsAsync(tenant, 101);
        Assert.Single(await HistoryAsync(tenant, rule));

        _host.Time.Advance(TimeSpan.FromMinutes(5));
        await _host.IngestErrorsAsync(tenant, 101);
        Assert.Equal(2, (await HistoryAsync(tenant, rule)).Length);
        await AlertTestHost.WaitUntilAsync(async () => await DeliveredAsync(tenant) == 2);
        Assert.Equal(2, _receiver.Requests.Count);
    }

    [Fact]
    public async Task Windows_and_cooldowns_continue_after_a_restart()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var rule = await RuleAsync(tenant, Threshold(channel, cooldownSeconds: 600));
        await _host.IngestErrorsAsync(tenant, 60);

        // A new process on the same database: its window is rebuilt from the 60 stored events.
        await using (var restarted = await _host.StartAnotherAsync())
        {
            await restarted.IngestErrorsAsync(tenant, 41);
            Assert.Single(await HistoryAsync(tenant, rule));
        }
        _host.Time.Advance(TimeSpan.FromMinutes(2));
        await using (var again = await _host.StartAnotherAsync())
        {
            await again.IngestErrorsAsync(tenant, 101);
            Assert.Single(await HistoryAsync(tenant, rule)); // the cooldown came from the store
        }
    }

    [Fact]
    public async Task New_issue_and_regression_rules_fire_for_the_first_event_and_for_a_resolved_issue()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var newIssue = await RuleAsync(tenant, new { name = "new", type = "new_issue", level = "warning", channelIds = new[] { channel } });
        var regression = await RuleAsync(tenant, new { name = "regressed", type = "regression", channelIds = new[] { channel } });

        await _host.IngestErrorsAsync(tenant, 3);
        await _host.IngestAsync(tenant, """[{"level":"info","message":"cache warmed"}]""");
        var fired = await HistoryAsync(tenant, newIssue);
        var issueId = Assert.Single(fired).GetProperty("issueId").GetInt64();
        Assert.Equal("New issue", fired[0].GetProperty("reason").GetString());
        Assert.Empty(await HistoryAsync(tenant, regression));

        var resolve = await _host.Api(tenant).PatchAsync($"/api/v1/issues/{issueId}",
            new StringContent("""{"status":"resolved"}""", System.Text.Encoding.UTF8, "application/json"));
        resolve.EnsureSuccessStatusCode();
        await _host.IngestErrorsAsync(tenant, 1);

        var regressed = Assert.Single(await HistoryAsync(tenant, regression));
        Assert.Equal(issueId, regressed.GetProperty("issueId").GetInt64());
        Assert.Single(await HistoryAsync(tenant, newIssue));
    }

    [Fact]
    public async Task Issue_frequency_fires_per_issue_and_a_snoozed_rule_stays_quiet_until_the_snooze_ends()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var frequency = await RuleAsync(tenant, new { name = "hot issue", type = "issue_frequency", threshold = 5, windowSeconds = 300, channelIds = new[] { channel } });
        var snoozed = await RuleAsync(tenant, new
        {
            name = "snoozed", type = "issue_frequency", threshold = 5, windowSeconds = 300, channelIds = new[] { channel },
            snoozedUntil = _host.Time.GetUtcNow().AddMinutes(10),
        });

        await _host.IngestErrorsAsync(tenant, 6, type: "HotException");
        await _host.IngestErrorsAsync(tenant, 3, type: "ColdException");
        var fired = Assert.Single(await HistoryAsync(tenant, frequency));
        Assert.Equal("Issue received more than 5 matching events in 5 minutes", fired.GetProperty("reason").GetString());
        Assert.Empty(await HistoryAsync(tenant, snoozed));

        _host.Time.Advance(TimeSpan.FromMinutes(11));
        await _host.IngestErrorsAsync(tenant, 6, type: "ColdException");
        Assert.Equal(2, (await HistoryAsync(tenant, frequency)).Length);
        Assert.Single(await HistoryAsync(tenant, snoozed));
    }

    [Fact]
    public async Task A_disabled_rule_does_not_fire_and_a_test_notification_is_delivered_and_recorded()
    {
        var (tenant, channel) = await TenantWithWebhookAsync();
        var rule = await RuleAsync(tenant, new { name = "off", type = "new_issue", enabled = false, channelIds = new[] { channel } });

        await _host.IngestErrorsAsync(tenant, 1);
        Assert.Empty(await HistoryAsync(tenant, rule));

        var test = await _host.PostJsonAsync(tenant, $"/api/v1/alert-rules/{rule}/test", new { }, System.Net.HttpStatusCode.Accepted);
        Assert.True(test.GetProperty("test").GetBoolean());
        await AlertTestHost.WaitUntilAsync(async () => await DeliveredAsync(tenant) == 1);
        var body = JsonDocument.Parse(Assert.Single(_receiver.Requests).Body).RootElement;
        Assert.True(body.GetProperty("isTest").GetBoolean());
        var history = Assert.Single(await HistoryAsync(tenant, rule));
        Assert.Equal("delivered", Assert.Single(history.GetProperty("deliveries").EnumerateArray()).GetProperty("status").GetString());
    }
}

public sealed class SqliteAlertRuleTests() : AlertRuleTests(StoreKind.Sqlite);

public sealed class PostgresAlertRuleTests() : AlertRuleTests(StoreKind.Postgres);

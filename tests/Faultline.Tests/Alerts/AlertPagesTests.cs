using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Faultline.Alerts;
using Faultline.Tests.Dashboard;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Alerts;

/// <summary>
/// The alert pages through the real server with a signed-in cookie: rules, channels and report schedules
/// created, changed and deleted by form (post/redirect/get), refusals shown inline with a 4xx, secrets
/// never rendered, members read only, another organization's ids in the URL a 404.
/// </summary>
public abstract partial class AlertPagesTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private string _acmeEmail = null!;
    private string _acmeOrg = null!;
    private TestTenant _globex = null!;
    private string _globexOrg = null!;
    private HttpReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind);
        (_acme, _acmeEmail) = await DashboardTenant.CreateAsync(_app, "acme");
        (_globex, _) = await DashboardTenant.CreateAsync(_app, "globex");
        _acmeOrg = await OrganizationAsync(_acme);
        _globexOrg = await OrganizationAsync(_globex);
        _receiver = await HttpReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _app.DisposeAsync();
    }

    private string Alerts => $"/projects/{_acme.ProjectId}/alerts";

    private async Task<string> OrganizationAsync(TestTenant tenant) =>
        (await _app.ApiClient(tenant.Token).GetFromJsonAsync<JsonElement>("/api/v1/organizations"))[0].GetProperty("slug").GetString()!;

    private async Task<JsonElement> ApiAsync(TestTenant tenant, string path) =>
        await _app.ApiClient(tenant.Token).GetFromJsonAsync<JsonElement>(path);

    private async Task<long> PostApiAsync(TestTenant tenant, string path, object body)
    {
        var response = await _app.ApiClient(tenant.Token).PostAsJsonAsync(path, body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private Task<long> WebhookAsync(TestTenant tenant, string org, string secret = "whsec-0123456789abcdef") =>
        PostApiAsync(tenant, $"/api/v1/organizations/{org}/alert-channels", new { name = "ops hook", type = "webhook", url = new Uri(_receiver.Address, "hook").ToString(), secret });

    private Task<long> RuleAsync(TestTenant tenant, long channelId, string name = "errors burst") =>
        PostApiAsync(tenant, $"/api/v1/projects/{tenant.ProjectId}/alert-rules",
            new { name, type = "threshold", threshold = 100, windowSeconds = 60, level = "error", channelIds = new[] { channelId } });

    private static string AssertRedirect(HttpResponseMessage response, string contains)
    {
        var location = response.Headers.Location?.OriginalString ?? "";
        Assert.True(response.StatusCode == HttpStatusCode.Redirect && location.Contains(contains, StringComparison.Ordinal),
            $"expected a redirect to ...{contains}, got {(int)response.StatusCode} {location}");
        return location;
    }

    private static async Task<string> AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}");
        Assert.Contains(message, html, StringComparison.Ordinal);
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);
        return html;
    }

    private static Dictionary<string, string> RuleFields(long channelId, string name = "checkout errors", string query = "exception.type:TimeoutException", string threshold = "100") => new()
    {
        ["name"] = name,
        ["type"] = "threshold",
        ["enabled"] = "true",
        ["threshold"] = threshold,
        ["windowSeconds"] = "60",
        ["level"] = "error",
        ["environment"] = "production",
        ["release"] = "2.4.1",
        ["query"] = query,
        ["cooldownSeconds"] = "900",
        ["channel"] = channelId.ToString(CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task An_owner_creates_edits_and_deletes_a_rule_and_bad_input_is_shown_in_the_form()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var channelId = await WebhookAsync(_acme, _acmeOrg);
        var (status, html) = await browser.GetAsync(Alerts);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("No alert rules yet", html);

        var bad = await AssertRefusedAsync(await browser.PostFormAsync($"{Alerts}/rules/new", "rule", RuleFields(channelId, query: "level:(error")),
            HttpStatusCode.BadRequest, "query:");
        Assert.Contains("value=\"checkout errors\"", bad); // the form keeps what was typed
        await AssertRefusedAsync(await browser.PostFormAsync($"{Alerts}/rules/new", "rule", RuleFields(channelId, threshold: "many")),
            HttpStatusCode.BadRequest, "threshold must be a whole number");
        await AssertRefusedAsync(await browser.PostFormAsync($"{Alerts}/rules/new", "rule", RuleFields(channelId, name: "")),
            HttpStatusCode.BadRequest, "name is required");
        var foreignChannel = await WebhookAsync(_globex, _globexOrg);
        await AssertRefusedAsync(await browser.PostFormAsync($"{Alerts}/rules/new", "rule", RuleFields(foreignChannel)),
            HttpStatusCode.BadRequest, "is not a channel of this project's organization");
        Assert.Empty((await ApiAsync(_acme, $"/api/v1/projects/{_acme.ProjectId}/alert-rules")).EnumerateArray());

        var location = AssertRedirect(await browser.PostFormAsync($"{Alerts}/rules/new", "rule", RuleFields(channelId)), "?done=rule-created");
        var ruleId = long.Parse(RuleIdInUrl().Match(location).Groups[1].Value, CultureInfo.InvariantCulture);
        var rule = await ApiAsync(_acme, $"/api/v1/alert-rules/{ruleId}");
        Assert.Equal("checkout errors", rule.GetProperty("name").GetString());
        Assert.Equal(100, rule.GetProperty("threshold").GetInt32());
        Assert.Equal("production", rule.GetProperty("environment").GetString());
        Assert.Equal("2.4.1", rule.GetProperty("release").GetString());
        Assert.Equal("exception.type:TimeoutException", rule.GetProperty("query").GetString());
        Assert.Equal(900, rule.GetProperty("cooldownSeconds").GetInt32());
        Assert.Equal(channelId, rule.GetProperty("channelIds")[0].GetInt64());

        var edited = RuleFields(channelId, name: "checkout errors (new issue)");
        edited["type"] = "new_issue";
        edited["level"] = "fatal";
        edited.Remove("enabled");
        AssertRedirect(await browser.PostFormAsync($"{Alerts}/rules/{ruleId}", "rule", edited), "?done=rule-saved");
        rule = await ApiAsync(_acme, $"/api/v1/alert-rules/{ruleId}");
        Assert.Equal("new_issue", rule.GetProperty("type").GetString());
        Assert.Equal("fatal", rule.GetProperty("level").GetString());
        Assert.False(rule.GetProperty("enabled").GetBoolean());

        (_, html) = await browser.GetAsync(Alerts);
        Assert.Contains("checkout errors (new issue)", html);
        Assert.Contains("the first event of a new issue", html);
        Assert.Contains("disabled", html);

        AssertRedirect(await browser.PostFormAsync($"{Alerts}/rules/{ruleId}", "delete", []), $"{Alerts}?done=rule-deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/alert-rules/{ruleId}")).StatusCode);
    }

    [Fact]
    public async Task Rules_are_enabled_disabled_snoozed_and_unsnoozed_from_the_list()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var ruleId = await RuleAsync(_acme, await WebhookAsync(_acme, _acmeOrg));
        async Task<JsonElement> Rule() => await ApiAsync(_acme, $"/api/v1/alert-rules/{ruleId}");

        var (_, html) = await browser.GetAsync(Alerts);
        Assert.Contains($"data-rule-id=\"{ruleId}\"", html);
        Assert.Contains("more than 100 matching events in 1 min", html);
        Assert.Contains("never", html);

        AssertRedirect(await browser.PostFormAsync(Alerts, $"enable-{ruleId}", new() { ["enabled"] = "false" }), "?done=rule-disabled");
        Assert.False((await Rule()).GetProperty("enabled").GetBoolean());
        AssertRedirect(await browser.PostFormAsync(Alerts, $"enable-{ruleId}", new() { ["enabled"] = "true" }), "?done=rule-enabled");
        Assert.True((await Rule()).GetProperty("enabled").GetBoolean());

        var before = DateTimeOffset.UtcNow;
        AssertRedirect(await browser.PostFormAsync(Alerts, $"snooze-{ruleId}", new() { ["for"] = "24h", ["until"] = "" }), "?done=rule-snoozed");
        var snoozed = (await Rule()).GetProperty("snoozedUntil").GetDateTimeOffset();
        Assert.InRange(snoozed, before.AddHours(24).AddSeconds(-5), DateTimeOffset.UtcNow.AddHours(24).AddSeconds(5));
        (_, html) = await browser.GetAsync(Alerts);
        Assert.Contains("snoozed until", html);

        var until = DateTime.UtcNow.AddDays(3).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);
        AssertRedirect(await browser.PostFormAsync(Alerts, $"snooze-{ruleId}", new() { ["for"] = "1h", ["until"] = until }), "?done=rule-snoozed");
        Assert.Equal(DateTimeOffset.Parse(until + "Z", CultureInfo.InvariantCulture), (await Rule()).GetProperty("snoozedUntil").GetDateTimeOffset());

        await AssertRefusedAsync(await browser.PostFormAsync(Alerts, $"snooze-{ruleId}", new() { ["for"] = "1h", ["until"] = "2001-01-01T00:00" }),
            HttpStatusCode.BadRequest, "must end in the future");
        await AssertRefusedAsync(await browser.PostFormAsync(Alerts, $"snooze-{ruleId}", new() { ["for"] = "1h", ["until"] = "soon" }),
            HttpStatusCode.BadRequest, "until must be a date and time");

        AssertRedirect(await browser.PostFormAsync(Alerts, $"unsnooze-{ruleId}", []), "?done=rule-unsnoozed");
        Assert.Equal(JsonValueKind.Null, (await Rule()).GetProperty("snoozedUntil").ValueKind);
    }

    [Fact]
    public async Task The_test_action_sends_through_the_rules_channels_and_the_history_shows_each_outcome()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var ruleId = await RuleAsync(_acme, await WebhookAsync(_acme, _acmeOrg));

        var location = AssertRedirect(await browser.PostFormAsync(Alerts, $"test-{ruleId}", []), $"{Alerts}/rules/{ruleId}?tested=");
        await AlertTestHost.WaitUntilAsync(() => Task.FromResult(!_receiver.Requests.IsEmpty));
        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("/hook", request.Path);
        Assert.Contains("\"isTest\":true", request.Body, StringComparison.Ordinal);
        await AlertTestHost.WaitUntilAsync(async () => (await browser.GetAsync(location)).Html.Contains("data-delivery-status=\"delivered\"", StringComparison.Ordinal));

        // A receiver that refuses: the delivery fails for good and the history shows why.
        _receiver.DefaultAnswer = (400, "unknown hook");
        AssertRedirect(await browser.PostFormAsync($"{Alerts}/rules/{ruleId}", "test", []), "?tested=");
        await AlertTestHost.WaitUntilAsync(async () => (await browser.GetAsync($"{Alerts}/rules/{ruleId}")).Html.Contains("data-delivery-status=\"failed\"", StringComparison.Ordinal));
        var (_, html) = await browser.GetAsync($"{Alerts}/rules/{ruleId}");
        Assert.Contains("answered 400", html);
        Assert.Contains("unknown hook", html);
        Assert.Equal(2, HistoryRow().Matches(html).Count);
        (_, html) = await browser.GetAsync($"{Alerts}/channels");
        Assert.Contains("unknown hook", html); // the failed deliveries of the organization

        var silent = await PostApiAsync(_acme, $"/api/v1/projects/{_acme.ProjectId}/alert-rules", new { name = "no channels", type = "regression" });
        await AssertRefusedAsync(await browser.PostFormAsync(Alerts, $"test-{silent}", []), HttpStatusCode.BadRequest, "The rule has no channels to test.");
    }

    [Fact]
    public async Task Channels_are_created_edited_and_deleted_and_secrets_are_never_shown()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var channels = $"{Alerts}/channels";
        const string secret = "whsec-never-shown-on-a-page-01";
        const string slackUrl = "https://hooks.slack.test/services/T1/B1/never-shown";

        await AssertRefusedAsync(await browser.PostFormAsync(channels, "create-webhook", new() { ["name"] = "hook", ["url"] = "ftp://x", ["secret"] = secret }),
            HttpStatusCode.BadRequest, "url must be an absolute http or https URL");
        var refused = await AssertRefusedAsync(await browser.PostFormAsync(channels, "create-webhook", new() { ["name"] = "hook", ["url"] = "https://example.test/h", ["secret"] = "short" }),
            HttpStatusCode.BadRequest, "secret must be at least 16 characters");
        Assert.Contains("https://example.test/h", refused); // the URL is kept, the secret is not echoed
        await AssertRefusedAsync(await browser.PostFormAsync(channels, "create-email", new() { ["name"] = "mail", ["recipients"] = "oncall@acme.test\nnot an address" }),
            HttpStatusCode.BadRequest, "is not an email address");

        AssertRedirect(await browser.PostFormAsync(channels, "create-webhook", new() { ["name"] = "hook", ["url"] = "https://example.test/h", ["secret"] = secret }), "?done=channel-created");
        AssertRedirect(await browser.PostFormAsync(channels, "create-slack", new() { ["name"] = "slack", ["url"] = slackUrl }), "?done=channel-created");
        AssertRedirect(await browser.PostFormAsync(channels, "create-email", new() { ["name"] = "mail", ["recipients"] = "oncall@acme.test\r\nlead@acme.test" }), "?done=channel-created");
        AssertRedirect(await browser.PostFormAsync(channels, "create-jira", new()
        {
            ["name"] = "jira", ["siteUrl"] = "https://acme.atlassian.test", ["email"] = "bot@acme.test", ["projectKey"] = "OPS", ["secret"] = "jira-token-never-shown",
        }), "?done=channel-created");

        var listed = await ApiAsync(_acme, $"/api/v1/organizations/{_acmeOrg}/alert-channels");
        Assert.Equal(4, listed.GetArrayLength());
        var hook = listed.EnumerateArray().Single(c => c.GetProperty("type").GetString() == "webhook").GetProperty("id").GetInt64();
        var email = listed.EnumerateArray().Single(c => c.GetProperty("type").GetString() == "email");
        Assert.Equal(["oncall@acme.test", "lead@acme.test"], email.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));

        var (_, html) = await browser.GetAsync(channels);
        var (_, edit) = await browser.GetAsync($"{channels}/{hook}");
        foreach (var page in new[] { html, edit })
        {
            Assert.DoesNotContain(secret, page, StringComparison.Ordinal);
            Assert.DoesNotContain(slackUrl, page, StringComparison.Ordinal);
            Assert.DoesNotContain("jira-token-never-shown", page, StringComparison.Ordinal);
        }
        Assert.Contains("leave empty to keep it", edit);

        // An empty secret keeps the stored one.
        AssertRedirect(await browser.PostFormAsync($"{channels}/{hook}", "channel", new() { ["name"] = "renamed hook", ["url"] = "https://example.test/h2", ["secret"] = "" }), "?done=channel-saved");
        var store = _app.Services.GetRequiredService<IAlertStore>();
        var stored = await store.GetChannelWithSecretAsync(hook, default);
        Assert.Equal(secret, stored!.Value.Secret);
        Assert.Equal("renamed hook", stored.Value.Channel.Name);
        AssertRedirect(await browser.PostFormAsync($"{channels}/{hook}", "channel", new() { ["name"] = "renamed hook", ["url"] = "https://example.test/h2", ["secret"] = "a-brand-new-secret-0001" }), "?done=channel-saved");
        Assert.Equal("a-brand-new-secret-0001", (await store.GetChannelWithSecretAsync(hook, default))!.Value.Secret);

        AssertRedirect(await browser.PostFormAsync($"{channels}/{hook}", "delete", []), "?done=channel-deleted");
        Assert.Equal(3, (await ApiAsync(_acme, $"/api/v1/organizations/{_acmeOrg}/alert-channels")).GetArrayLength());
    }

    [Fact]
    public async Task Report_schedules_are_created_validated_edited_sent_now_and_deleted()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var reports = $"{Alerts}/reports";
        Dictionary<string, string> Fields(string preset, string cron = "", string zone = "UTC", string recipients = "lead@acme.test") => new()
        {
            ["name"] = "weekly digest", ["projectId"] = _acme.ProjectId.ToString(CultureInfo.InvariantCulture), ["preset"] = preset, ["cron"] = cron,
            ["timeZone"] = zone, ["recipients"] = recipients, ["enabled"] = "true",
        };

        await AssertRefusedAsync(await browser.PostFormAsync(reports, "create", Fields("", cron: "61 * * * *")), HttpStatusCode.BadRequest, "cron is not a valid five-field cron expression");
        await AssertRefusedAsync(await browser.PostFormAsync(reports, "create", Fields("weekly", zone: "Mars/Olympus_Mons")), HttpStatusCode.BadRequest, "is not a known time zone");
        await AssertRefusedAsync(await browser.PostFormAsync(reports, "create", Fields("weekly", recipients: "")), HttpStatusCode.BadRequest, "recipients must list 1 to 50");
        var foreign = Fields("weekly");
        foreign["projectId"] = _globex.ProjectId.ToString(CultureInfo.InvariantCulture);
        await AssertRefusedAsync(await browser.PostFormAsync(reports, "create", foreign), HttpStatusCode.BadRequest, "is not a project of this organization");

        var location = AssertRedirect(await browser.PostFormAsync(reports, "create", Fields("weekly")), "?done=report-created");
        var reportId = long.Parse(ReportIdInUrl().Match(location).Groups[1].Value, CultureInfo.InvariantCulture);
        var report = await ApiAsync(_acme, $"/api/v1/reports/{reportId}");
        Assert.Equal("0 9 * * 1", report.GetProperty("cron").GetString());
        Assert.Equal(_acme.ProjectId, report.GetProperty("projectId").GetInt64());

        AssertRedirect(await browser.PostFormAsync($"{reports}/{reportId}", "report", Fields("", cron: "30 8 * * 1-5", zone: "Europe/Berlin", recipients: "a@acme.test, b@acme.test")),
            "?done=report-saved");
        report = await ApiAsync(_acme, $"/api/v1/reports/{reportId}");
        Assert.Equal("30 8 * * 1-5", report.GetProperty("cron").GetString());
        Assert.Equal("Europe/Berlin", report.GetProperty("timeZone").GetString());
        Assert.Equal(2, report.GetProperty("recipients").GetArrayLength());
        var (_, html) = await browser.GetAsync(reports);
        Assert.Contains("30 8 * * 1-5", html);

        var sent = await browser.PostFormAsync($"{reports}/{reportId}", "send", []);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var preview = WebUtility.HtmlDecode(await sent.Content.ReadAsStringAsync());
        Assert.Contains("Preview queued to a@acme.test, b@acme.test", preview);
        Assert.Contains("weekly digest", preview);

        AssertRedirect(await browser.PostFormAsync($"{reports}/{reportId}", "delete", []), $"{reports}?done=report-deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/reports/{reportId}")).StatusCode);
    }

    [Fact]
    public async Task A_member_reads_without_forms_and_neither_a_forged_post_nor_the_api_changes_anything()
    {
        var ruleId = await RuleAsync(_acme, await WebhookAsync(_acme, _acmeOrg));
        var email = $"member-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, DashboardTenant.Password, isAdmin: false, default);
        var organization = (await ApiAsync(_acme, "/api/v1/organizations"))[0].GetProperty("id").GetInt64();
        var added = await _app.ApiClient(_acme.Token).PostAsJsonAsync($"/api/v1/organizations/{organization}/members", new { email, role = "member" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using var browser = await DashboardSession.SignedInAsync(_app, email);

        var (status, html) = await browser.GetAsync(Alerts);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("errors burst", html);
        Assert.DoesNotContain("New rule", html);
        Assert.DoesNotContain("__RequestVerificationToken\" value", html.Replace("action=\"/logout\"", "", StringComparison.Ordinal).Split("<main")[1]);
        (status, html) = await browser.GetAsync($"{Alerts}/rules/{ruleId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("Save rule", html);

        var forged = await browser.PostFormAsync(Alerts, $"enable-{ruleId}", new() { ["enabled"] = "false" });
        Assert.NotEqual(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.True((await ApiAsync(_acme, $"/api/v1/alert-rules/{ruleId}")).GetProperty("enabled").GetBoolean());

        var token = await _app.Accounts.CreateApiTokenAsync(email, "member", default);
        var put = await _app.ApiClient(token).PutAsJsonAsync($"/api/v1/alert-rules/{ruleId}", new { name = "mine", type = "new_issue" });
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Contains("Only owners and admins", await put.Content.ReadAsStringAsync());
        var test = await _app.ApiClient(token).PostAsync($"/api/v1/alert-rules/{ruleId}/test", null);
        Assert.Equal(HttpStatusCode.Forbidden, test.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(token).GetAsync($"/api/v1/alert-rules/{ruleId}/history")).StatusCode);
    }

    [Fact]
    public async Task Another_organizations_rules_channels_and_reports_are_a_404_in_the_url()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var globexChannel = await WebhookAsync(_globex, _globexOrg);
        var globexRule = await RuleAsync(_globex, globexChannel, "globex secret rule");
        var globexReport = await PostApiAsync(_globex, $"/api/v1/organizations/{_globexOrg}/reports", new { name = "globex digest", preset = "daily", recipients = new[] { "x@globex.test" } });

        foreach (var path in new[]
        {
            $"/projects/{_globex.ProjectId}/alerts", $"/projects/{_globex.ProjectId}/alerts/channels", $"/projects/{_globex.ProjectId}/alerts/reports",
            $"{Alerts}/rules/{globexRule}", $"{Alerts}/channels/{globexChannel}", $"{Alerts}/reports/{globexReport}",
            $"/projects/{_globex.ProjectId}/alerts/rules/{globexRule}", $"{Alerts}/rules/999999",
        })
        {
            var (status, html) = await browser.GetAsync(path);
            Assert.True(status == HttpStatusCode.NotFound, $"{path} answered {(int)status}");
            Assert.DoesNotContain("globex secret rule", html);
            Assert.DoesNotContain("globex digest", html);
        }

        var posts = new[]
        {
            await browser.PostFormAsync($"{Alerts}/rules/{globexRule}", "delete", [], tokenFrom: Alerts),
            await browser.PostFormAsync($"{Alerts}/rules/{globexRule}", "test", [], tokenFrom: Alerts),
            await browser.PostFormAsync($"{Alerts}/channels/{globexChannel}", "delete", [], tokenFrom: Alerts),
            await browser.PostFormAsync($"{Alerts}/reports/{globexReport}", "send", [], tokenFrom: Alerts),
            await browser.PostFormAsync(Alerts, $"enable-{globexRule}", new() { ["enabled"] = "false" }, tokenFrom: Alerts),
        };
        Assert.All(posts, p => Assert.True((int)p.StatusCode is >= 400 and < 500, $"answered {(int)p.StatusCode}"));
        Assert.True((await ApiAsync(_globex, $"/api/v1/alert-rules/{globexRule}")).GetProperty("enabled").GetBoolean());
        Assert.Empty((await ApiAsync(_globex, $"/api/v1/alert-rules/{globexRule}/history")).EnumerateArray());
        Assert.Equal(1, (await ApiAsync(_globex, $"/api/v1/organizations/{_globexOrg}/alert-channels")).GetArrayLength());
        Assert.Empty(_receiver.Requests);
    }

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_sign_in()
    {
        using var browser = DashboardSession.Create(_app);
        foreach (var path in new[] { Alerts, $"{Alerts}/channels", $"{Alerts}/reports", $"{Alerts}/rules/new" })
        {
            var response = await browser.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("/rules/(\\d+)\\?")]
    private static partial Regex RuleIdInUrl();

    [GeneratedRegex("/reports/(\\d+)\\?")]
    private static partial Regex ReportIdInUrl();

    [GeneratedRegex("data-history-id=\"\\d+\"")]
    private static partial Regex HistoryRow();
}

public sealed class SqliteAlertPagesTests() : AlertPagesTests(StoreKind.Sqlite);

public sealed class PostgresAlertPagesTests() : AlertPagesTests(StoreKind.Postgres);

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Alerts;

/// <summary>The alerts API: secrets are write-only, everything is scoped to the caller's organizations, bad input is a 400 that says why.</summary>
public sealed class AlertsApiTests : IAsyncLifetime
{
    private AlertTestHost _host = null!;
    private TestTenantWithOrg _acme = null!;
    private TestTenantWithOrg _globex = null!;

    public async Task InitializeAsync()
    {
        _host = await AlertTestHost.StartAsync(StoreKind.Sqlite);
        _acme = await _host.CreateTenantAsync("acme");
        _globex = await _host.CreateTenantAsync("globex");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(TestTenantWithOrg caller, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        var response = await _host.Api(caller).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Secrets_are_stored_but_never_returned()
    {
        var secrets = new[] { "whsec-never-shown-0001", "https://hooks.slack.test/services/T1/B1/never-shown", "jira-token-never-shown" };
        var org = $"/api/v1/organizations/{_acme.Organization}/alert-channels";
        var webhook = await _host.PostJsonAsync(_acme, org, new { name = "hook", type = "webhook", url = "https://example.test/hook", secret = secrets[0] });
        var slack = await _host.PostJsonAsync(_acme, org, new { name = "slack", type = "slack", url = secrets[1] });
        var jira = await _host.PostJsonAsync(_acme, org, new { name = "jira", type = "jira", siteUrl = "https://acme.atlassian.test", email = "bot@acme.test", projectKey = "OPS", secret = secrets[2] });
        var renamed = await SendAsync(_acme, HttpMethod.Put, $"/api/v1/alert-channels/{webhook.GetProperty("id")}", new { name = "renamed", url = "https://example.test/hook2" });
        var listed = await _host.GetJsonAsync(_acme, org);

        Assert.Equal(HttpStatusCode.OK, renamed.Status);
        Assert.True(renamed.Body.GetProperty("hasSecret").GetBoolean()); // an omitted secret keeps the stored one
        Assert.All([webhook, slack, jira], c => Assert.True(c.GetProperty("hasSecret").GetBoolean()));
        Assert.Equal("OPS", jira.GetProperty("projectKey").GetString());
        var shown = string.Join("\n", webhook, slack, jira, renamed.Body, listed);
        Assert.All(secrets, secret => Assert.DoesNotContain(secret, shown, StringComparison.Ordinal));
        Assert.Equal(3, listed.GetArrayLength());
    }

    [Fact]
    public async Task Another_organizations_channels_rules_and_history_are_not_found()
    {
        var channel = await _host.PostJsonAsync(_acme, $"/api/v1/organizations/{_acme.Organization}/alert-channels",
            new { name = "hook", type = "webhook", url = "https://example.test/hook", secret = "whsec-0123456789abcdef" });
        var channelId = channel.GetProperty("id").GetInt64();
        var rule = await _host.PostJsonAsync(_acme, $"/api/v1/projects/{_acme.ProjectId}/alert-rules",
            new { name = "new", type = "new_issue", channelIds = new[] { channelId } });
        var ruleId = rule.GetProperty("id").GetInt64();

        var attempts = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"/api/v1/organizations/{_acme.Organization}/alert-channels", null),
            (HttpMethod.Get, $"/api/v1/alert-channels/{channelId}", null),
            (HttpMethod.Put, $"/api/v1/alert-channels/{channelId}", new { name = "mine", url = "https://evil.test" }),
            (HttpMethod.Delete, $"/api/v1/alert-channels/{channelId}", null),
            (HttpMethod.Get, $"/api/v1/projects/{_acme.ProjectId}/alert-rules", null),
            (HttpMethod.Get, $"/api/v1/alert-rules/{ruleId}", null),
            (HttpMethod.Put, $"/api/v1/alert-rules/{ruleId}", new { name = "x", type = "new_issue" }),
            (HttpMethod.Delete, $"/api/v1/alert-rules/{ruleId}", null),
            (HttpMethod.Post, $"/api/v1/alert-rules/{ruleId}/test", null),
            (HttpMethod.Get, $"/api/v1/alert-rules/{ruleId}/history", null),
            (HttpMethod.Get, $"/api/v1/organizations/{_acme.Organization}/alert-deliveries", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            var (status, _) = await SendAsync(_globex, method, path, body);
            Assert.True(status == HttpStatusCode.NotFound, $"{method} {path} answered {(int)status} to another organization");
        }
        // Nor can a rule of globex use acme's channel.
        var (borrow, problem) = await SendAsync(_globex, HttpMethod.Post, $"/api/v1/projects/{_globex.ProjectId}/alert-rules",
            new { name = "borrow", type = "new_issue", channelIds = new[] { channelId } });
        Assert.Equal(HttpStatusCode.BadRequest, borrow);
        Assert.Contains("is not a channel of this project's organization", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(_acme, HttpMethod.Get, $"/api/v1/alert-rules/{ruleId}")).Status);
    }

    [Theory]
    [InlineData("""{"name":"x","type":"sometimes"}""", "type must be threshold, new_issue, regression or issue_frequency.")]
    [InlineData("""{"type":"new_issue"}""", "name is required (at most 200 characters).")]
    [InlineData("""{"name":"x","type":"threshold","windowSeconds":60}""", "threshold (fire on more than this many events) must be 0 to 100000.")]
    [InlineData("""{"name":"x","type":"threshold","threshold":5,"windowSeconds":0}""", "windowSeconds must be 1 to 86400.")]
    [InlineData("""{"name":"x","type":"new_issue","level":"loud"}""", "level must be debug, info, warning, error or fatal.")]
    [InlineData("""{"name":"x","type":"new_issue","cooldownSeconds":-1}""", "cooldownSeconds must be 0 to 2592000 (30 days).")]
    [InlineData("""{"name":"x","type":"new_issue","query":"is:resolved"}""", "is: filters are not available in alert rules (rules match events as they arrive, before any triage).")]
    public async Task A_bad_rule_is_a_400_that_says_why(string json, string detail)
    {
        var response = await _host.Api(_acme).PostAsync($"/api/v1/projects/{_acme.ProjectId}/alert-rules",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"name":"x","type":"pager"}""", "type must be one of email, slack, webhook, jira.")]
    [InlineData("""{"name":"x","type":"email","recipients":["not an address"]}""", "recipients: 'not an address' is not an email address.")]
    [InlineData("""{"name":"x","type":"email","recipients":[]}""", "recipients must list 1 to 50 email addresses.")]
    [InlineData("""{"name":"x","type":"webhook","url":"ftp://example.test","secret":"0123456789abcdef"}""", "url must be an absolute http or https URL.")]
    [InlineData("""{"name":"x","type":"webhook","url":"https://example.test"}""", "secret (the key receivers verify the HMAC-SHA256 signature with) is required.")]
    [InlineData("""{"name":"x","type":"slack"}""", "url (the Slack incoming-webhook URL) is required.")]
    [InlineData("""{"name":"x","type":"jira","siteUrl":"https://a.test","email":"a@a.test","secret":"t"}""", "projectKey is required.")]
    public async Task A_bad_channel_is_a_400_that_says_why(string json, string detail)
    {
        var response = await _host.Api(_acme).PostAsync($"/api/v1/organizations/{_acme.Organization}/alert-channels",
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_rule_can_be_edited_disabled_and_deleted()
    {
        var rule = await _host.PostJsonAsync(_acme, $"/api/v1/projects/{_acme.ProjectId}/alert-rules",
            new { name = "storm", type = "threshold", threshold = 100, windowSeconds = 60, level = "error", environment = "production", query = "Timeout" });
        var id = rule.GetProperty("id").GetInt64();
        Assert.Equal(600, rule.GetProperty("cooldownSeconds").GetInt32());
        Assert.Equal("error", rule.GetProperty("level").GetString());

        var (status, updated) = await SendAsync(_acme, HttpMethod.Put, $"/api/v1/alert-rules/{id}",
            new { name = "storm", type = "threshold", threshold = 50, windowSeconds = 120, enabled = false });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(updated.GetProperty("enabled").GetBoolean());
        Assert.Equal(50, updated.GetProperty("threshold").GetInt32());
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("environment").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(_acme, HttpMethod.Delete, $"/api/v1/alert-rules/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(_acme, HttpMethod.Get, $"/api/v1/alert-rules/{id}")).Status);
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Faultline.Alerts.Channels;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Alerts;

/// <summary>
/// Each channel against a real peer: webhook, Slack and Jira against local HTTP receivers (exact requests),
/// email against the real SMTP sink started by ./test.sh; failure paths included.
/// </summary>
public abstract class AlertChannelTests(StoreKind kind) : IAsyncLifetime
{
    private const string WebhookSecret = "whsec-0123456789abcdef";
    private AlertTestHost _host = null!;
    private HttpReceiver _receiver = null!;
    private TestTenantWithOrg _tenant = null!;

    public async Task InitializeAsync()
    {
        _host = await AlertTestHost.StartAsync(kind, SmtpSink.Settings());
        _receiver = await HttpReceiver.StartAsync();
        _tenant = await _host.CreateTenantAsync("acme");
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _host.DisposeAsync();
    }

    private async Task<long> ChannelAsync(object channel) =>
        (await _host.PostJsonAsync(_tenant, $"/api/v1/organizations/{_tenant.Organization}/alert-channels", channel)).GetProperty("id").GetInt64();

    /// <summary>A rule that fires for every batch of events of the issue (threshold 0, no cooldown).</summary>
    private async Task<long> EveryEventRuleAsync(long channelId) =>
        (await _host.PostJsonAsync(_tenant, $"/api/v1/projects/{_tenant.ProjectId}/alert-rules",
            new { name = "every event", type = "issue_frequency", threshold = 0, windowSeconds = 60, cooldownSeconds = 0, channelIds = new[] { channelId } }))
        .GetProperty("id").GetInt64();

    private async Task<JsonElement[]> DeliveriesAsync() =>
        [.. (await _host.GetJsonAsync(_tenant, $"/api/v1/organizations/{_tenant.Organization}/alert-deliveries")).EnumerateArray()];

    private Task WaitForRequestsAsync(int count) => AlertTestHost.WaitUntilAsync(() => Task.FromResult(_receiver.Requests.Count >= count));

    private Task WaitForStatusAsync(string status, int count = 1) =>
        AlertTestHost.WaitUntilAsync(async () => (await DeliveriesAsync()).Count(d => d.GetProperty("status").GetString() == status) >= count);

    [Fact]
    public async Task Webhook_posts_the_signed_notification_json()
    {
        var channel = await ChannelAsync(new { name = "ops hook", type = "webhook", url = new Uri(_receiver.Address, "hooks/faultline?team=ops").ToString(), secret = WebhookSecret });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 1);
        await WaitForRequestsAsync(1);

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hooks/faultline?team=ops", request.Path);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        var timestamp = request.Headers[WebhookSender.TimestampHeader];
        Assert.Equal(_host.Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), timestamp);
        var expected = "v1=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(timestamp + "." + request.Body)));
        Assert.Equal(expected, request.Headers[WebhookSender.SignatureHeader]);
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("TimeoutException: upstream timed out", body.GetProperty("title").GetString());
        Assert.Equal("error", body.GetProperty("level").GetString());
        Assert.Equal(1, body.GetProperty("count").GetInt64());
        Assert.Equal("Shop.Orders in PlaceOrder (Orders.cs:42)", body.GetProperty("topFrame").GetString());
        Assert.Equal("production", body.GetProperty("environment").GetString());
        var issueId = body.GetProperty("issueId").GetInt64();
        Assert.Equal($"http://localhost:8100/projects/{_tenant.ProjectId}/issues/{issueId}", body.GetProperty("link").GetString());
        var delivery = await DeliveriesAsync();
        Assert.Equal(delivery[0].GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture), request.Headers[WebhookSender.DeliveryHeader]);
    }

    [Fact]
    public async Task Slack_receives_a_block_kit_message_with_the_facts()
    {
        var channel = await ChannelAsync(new { name = "#alerts", type = "slack", url = new Uri(_receiver.Address, "services/T000/B000/XXXX").ToString() });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 3);
        await WaitForRequestsAsync(1);

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("/services/T000/B000/XXXX", request.Path);
        var message = JsonDocument.Parse(request.Body).RootElement;
        var blocks = message.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].GetProperty("type").GetString());
        Assert.Equal("TimeoutException: upstream timed out", blocks[0].GetProperty("text").GetProperty("text").GetString());
        var fields = blocks[1].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("text").GetString()).ToList();
        Assert.Contains("*Count*\n3", fields);
        Assert.Contains("*Level*\nerror", fields);
        Assert.Contains("*Project*\nweb", fields);
        Assert.Equal("Top in-app frame: `Shop.Orders in PlaceOrder (Orders.cs:42)`", blocks[2].GetProperty("text").GetProperty("text").GetString());
        var button = blocks[3].GetProperty("elements")[0];
        Assert.StartsWith($"http://localhost:8100/projects/{_tenant.ProjectId}/issues/", button.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Contains("TimeoutException: upstream timed out", message.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jira_gets_one_issue_per_faultline_issue()
    {
        _receiver.Answer((201, """{"id":"10001","key":"OPS-7","self":"https://jira.example/rest/api/2/issue/10001"}"""));
        var channel = await ChannelAsync(new
        {
            name = "jira", type = "jira", siteUrl = _receiver.Address.ToString().TrimEnd('/'), email = "bot@acme.test",
            projectKey = "OPS", issueType = "Bug", secret = "jira-api-token-123",
        });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 1);
        await WaitForStatusAsync("delivered");
        await _host.IngestErrorsAsync(_tenant, 1);
        await WaitForStatusAsync("delivered", 2);

        var request = Assert.Single(_receiver.Requests);
        Assert.Equal("/rest/api/2/issue", request.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("bot@acme.test:jira-api-token-123")), request.Headers["Authorization"]);
        var fields = JsonDocument.Parse(request.Body).RootElement.GetProperty("fields");
        Assert.Equal("OPS", fields.GetProperty("project").GetProperty("key").GetString());
        Assert.Equal("Bug", fields.GetProperty("issuetype").GetProperty("name").GetString());
        Assert.Equal("TimeoutException: upstream timed out", fields.GetProperty("summary").GetString());
        Assert.Contains("Top in-app frame: Shop.Orders in PlaceOrder (Orders.cs:42)", fields.GetProperty("description").GetString(), StringComparison.Ordinal);
        var details = (await DeliveriesAsync()).Select(d => d.GetProperty("detail").GetString()).ToList();
        Assert.Equal(["already linked to OPS-7", "created OPS-7"], details);
    }

    [Fact]
    public async Task A_jira_400_is_recorded_as_failed_with_its_message_and_not_retried()
    {
        _receiver.Answer((400, """{"errorMessages":[],"errors":{"issuetype":"The issue type selected is invalid."}}"""));
        var channel = await ChannelAsync(new
        {
            name = "jira", type = "jira", siteUrl = _receiver.Address.ToString(), email = "bot@acme.test", projectKey = "OPS", issueType = "Bogus", secret = "token",
        });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 1);
        await WaitForStatusAsync("failed");

        var failed = Assert.Single(await DeliveriesAsync());
        Assert.Equal("Jira answered 400 Bad Request: issuetype: The issue type selected is invalid.", failed.GetProperty("detail").GetString());
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task A_webhook_answering_500_then_200_is_retried_and_delivered_once()
    {
        _receiver.Answer((500, "upstream broke"));
        var channel = await ChannelAsync(new { name = "hook", type = "webhook", url = _receiver.Address.ToString(), secret = WebhookSecret });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 1);
        // The retry waits on the fake clock (Polly with the injected TimeProvider): move it until delivered.
        await _host.AdvanceUntilAsync(async () => (await DeliveriesAsync()).Single().GetProperty("status").GetString() == "delivered", TimeSpan.FromSeconds(1));

        Assert.Equal(2, _receiver.Requests.Count);
        Assert.Equal(_receiver.Requests.First().Body, _receiver.Requests.Last().Body);
        var delivery = Assert.Single(await DeliveriesAsync());
        Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Email_arrives_with_subject_recipients_and_the_facts_in_html_and_text()
    {
        var recipient = $"oncall-{Guid.NewGuid():N}@acme.test";
        var channel = await ChannelAsync(new { name = "on-call", type = "email", recipients = new[] { recipient } });
        await EveryEventRuleAsync(channel);

        await _host.IngestErrorsAsync(_tenant, 2);
        await AlertTestHost.WaitUntilAsync(() => Task.FromResult(SmtpSink.MailTo(recipient).Count == 1));

        var mail = SmtpSink.MailTo(recipient)[0];
        Assert.Equal("[web] error: TimeoutException: upstream timed out", mail.Subject);
        Assert.Equal("alerts@faultline.test", mail.From.Mailboxes.Single().Address);
        var text = mail.TextBody;
        Assert.Contains("Count: 2", text, StringComparison.Ordinal);
        Assert.Contains("Level: error", text, StringComparison.Ordinal);
        Assert.Contains("Top in-app frame: Shop.Orders in PlaceOrder (Orders.cs:42)", text, StringComparison.Ordinal);
        Assert.Contains($"http://localhost:8100/projects/{_tenant.ProjectId}/issues/", text, StringComparison.Ordinal);
        Assert.Contains("<h2>TimeoutException: upstream timed out</h2>", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("<code>Shop.Orders in PlaceOrder (Orders.cs:42)</code>", mail.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_smtp_server_down_the_delivery_is_retried_with_backoff_and_finally_failed()
    {
        // A port nothing listens on: connection refused.
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        // Its own server and database, so no other dispatcher (with a working SMTP server) can take the row.
        await using var down = await AlertTestHost.StartAsync(kind, new Dictionary<string, string?>(SmtpSink.Settings())
        {
            ["Faultline:Alerts:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Faultline:Alerts:Delivery:MaxDispatches"] = "3",
            ["Faultline:Alerts:Delivery:AttemptsPerDispatch"] = "1",
        });
        var tenant = await down.CreateTenantAsync("initech");
        var recipient = $"nobody-{Guid.NewGuid():N}@acme.test";
        var channel = (await down.PostJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/alert-channels",
            new { name = "mail", type = "email", recipients = new[] { recipient } })).GetProperty("id").GetInt64();
        await down.PostJsonAsync(tenant, $"/api/v1/projects/{tenant.ProjectId}/alert-rules",
            new { name = "new", type = "new_issue", channelIds = new[] { channel } });
        async Task<JsonElement> DeliveryAsync() =>
            (await down.GetJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/alert-deliveries")).EnumerateArray().Single();

        await down.IngestErrorsAsync(tenant, 1);
        await AlertTestHost.WaitUntilAsync(async () => (await DeliveryAsync()).GetProperty("attempts").GetInt32() == 1);
        var pending = await DeliveryAsync();
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Contains("could not be reached", pending.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The next dispatch is 30 s later, then 60 s: still down, so the row fails for good after the third.
        Assert.Equal(down.Time.GetUtcNow().AddSeconds(30), pending.GetProperty("nextAttemptAt").GetDateTimeOffset());

        await down.AdvanceUntilAsync(async () => (await DeliveryAsync()).GetProperty("status").GetString() == "failed", TimeSpan.FromSeconds(10));
        var failed = await DeliveryAsync();
        Assert.Equal(3, failed.GetProperty("attempts").GetInt32());
        Assert.Empty(SmtpSink.MailTo(recipient));
    }
}

public sealed class SqliteAlertChannelTests() : AlertChannelTests(StoreKind.Sqlite);

public sealed class PostgresAlertChannelTests() : AlertChannelTests(StoreKind.Postgres);

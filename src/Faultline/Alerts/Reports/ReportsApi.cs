using System.Security.Claims;
using Faultline.Accounts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Alerts.Reports;

/// <summary>
/// A report schedule to create or replace: preset (daily = 09:00 every day, weekly = 09:00 on Mondays) or a
/// five-field cron expression, an IANA time zone (default UTC), recipients, and optionally one project of the
/// organization (otherwise the whole organization).
/// </summary>
public sealed record ReportRequest(string? Name, long? ProjectId, string? Preset, string? Cron, string? TimeZone, IReadOnlyList<string>? Recipients, bool? Enabled);

public sealed record ReportResponse(
    long Id, long OrganizationId, long? ProjectId, string Name, string Cron, string TimeZone, IReadOnlyList<string> Recipients, bool Enabled,
    DateTimeOffset? NextRunAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ReportResponse From(ReportSchedule s, DateTimeOffset now)
    {
        DateTimeOffset? next = ReportScheduler.TryParseSchedule(s.Draft, out var cron, out var zone) ? cron.GetNextOccurrence(now, zone) : null;
        return new(s.Id, s.OrganizationId, s.Draft.ProjectId, s.Draft.Name, s.Draft.Cron, s.Draft.TimeZone, s.Draft.Recipients, s.Draft.Enabled,
            s.Draft.Enabled ? next : null, s.CreatedAt, s.UpdatedAt);
    }
}

/// <summary>The preview mail that was queued by "send now".</summary>
public sealed record ReportPreviewResponse(IReadOnlyList<string> To, string Subject, string Text);

public static class ReportsApi
{
    public static void MapReportsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/organizations/{organization}/reports", ListAsync).WithName("ListReports").WithTags("Reports").WithSummary("Scheduled reports of an organization");
        api.MapPost("/organizations/{organization}/reports", CreateAsync).WithName("CreateReport").WithTags("Reports")
            .WithSummary("Schedule a report (daily/weekly preset or cron, time zone, recipients)");
        api.MapGet("/reports/{reportId:long}", GetAsync).WithName("GetReport").WithTags("Reports").WithSummary("One report schedule");
        api.MapPut("/reports/{reportId:long}", UpdateAsync).WithName("UpdateReport").WithTags("Reports").WithSummary("Replace a report schedule");
        api.MapDelete("/reports/{reportId:long}", DeleteAsync).WithName("DeleteReport").WithTags("Reports").WithSummary("Delete a report schedule");
        api.MapPost("/reports/{reportId:long}/send", SendNowAsync).WithName("SendReportNow").WithTags("Reports")
            .WithSummary("Send the last complete period's report now, as a preview");
    }

    private static async Task<Results<Ok<IReadOnlyList<ReportResponse>>, NotFound>> ListAsync(
        string organization, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<ReportResponse>>((await store.ListReportsAsync(org.Id, cancellationToken)).Select(r => ReportResponse.From(r, now)).ToList());
    }

    private static async Task<Results<Created<ReportResponse>, NotFound>> CreateAsync(
        string organization, ReportRequest body, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var draft = await ValidateAsync(body, org.Id, store, cancellationToken);
        var now = time.GetUtcNow();
        var report = await store.CreateReportAsync(org.Id, draft, now, cancellationToken);
        return TypedResults.Created($"/api/v1/reports/{report.Id}", ReportResponse.From(report, now));
    }

    private static async Task<Results<Ok<ReportResponse>, NotFound>> GetAsync(long reportId, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        return report is null ? TypedResults.NotFound() : TypedResults.Ok(ReportResponse.From(report, time.GetUtcNow()));
    }

    private static async Task<Results<Ok<ReportResponse>, NotFound>> UpdateAsync(
        long reportId, ReportRequest body, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        if (report is null)
        {
            return TypedResults.NotFound();
        }
        var draft = await ValidateAsync(body, report.OrganizationId, store, cancellationToken);
        var now = time.GetUtcNow();
        var updated = await store.UpdateReportAsync(reportId, draft, now, cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(ReportResponse.From(updated, now));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(long reportId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        if (await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        await store.DeleteReportAsync(reportId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<ReportPreviewResponse>, NotFound>> SendNowAsync(
        long reportId, ClaimsPrincipal user, IAlertStore store, ReportScheduler scheduler, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        if (report is null)
        {
            return TypedResults.NotFound();
        }
        var mail = await scheduler.SendPreviewAsync(report, cancellationToken);
        return TypedResults.Accepted((string?)null, new ReportPreviewResponse(mail.To, mail.Subject, mail.Text));
    }

    private static async Task<ReportScheduleDraft> ValidateAsync(ReportRequest body, long organizationId, IAlertStore store, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Trim().Length > 200)
        {
            throw new AlertValidationException("name is required (at most 200 characters).");
        }
        string cron;
        if (!string.IsNullOrWhiteSpace(body.Preset))
        {
            cron = ReportScheduler.Presets.TryGetValue(body.Preset.Trim(), out var preset)
                ? preset : throw new AlertValidationException("preset must be daily or weekly.");
        }
        else
        {
            cron = string.IsNullOrWhiteSpace(body.Cron) ? throw new AlertValidationException("Send a preset (daily, weekly) or a cron expression.") : body.Cron.Trim();
        }
        var zone = string.IsNullOrWhiteSpace(body.TimeZone) ? "UTC" : body.TimeZone.Trim();
        var recipients = (body.Recipients ?? []).Select(r => r?.Trim() ?? "").ToList();
        if (recipients.Count is 0 or > 50)
        {
            throw new AlertValidationException("recipients must list 1 to 50 email addresses.");
        }
        foreach (var recipient in recipients)
        {
            if (!MimeKit.MailboxAddress.TryParse(recipient, out var address) || !address.Address.Contains('@', StringComparison.Ordinal))
            {
                throw new AlertValidationException($"recipients: '{(recipient.Length > 60 ? recipient[..60] + "..." : recipient)}' is not an email address.");
            }
        }
        if (body.ProjectId is { } projectId && !(await store.ListOrganizationProjectsAsync(organizationId, cancellationToken)).Any(p => p.Id == projectId))
        {
            throw new AlertValidationException($"projectId: {projectId} is not a project of this organization.");
        }
        var draft = new ReportScheduleDraft(body.Name.Trim(), body.ProjectId, cron, zone, recipients, body.Enabled ?? true);
        if (!ReportScheduler.TryParseSchedule(draft, out _, out _))
        {
            try
            {
                Cronos.CronExpression.Parse(cron);
            }
            catch (Cronos.CronFormatException e)
            {
                throw new AlertValidationException($"cron is not a valid five-field cron expression: {e.Message}");
            }
            throw new AlertValidationException($"timeZone: '{zone}' is not a known time zone (use an IANA name such as Europe/Berlin).");
        }
        return draft;
    }
}

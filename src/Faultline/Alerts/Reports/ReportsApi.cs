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
        string organization, ReportRequest body, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var report = await settings.CreateReportAsync(user.UserId(), org.Id, body, cancellationToken);
        return TypedResults.Created($"/api/v1/reports/{report.Id}", ReportResponse.From(report, time.GetUtcNow()));
    }

    private static async Task<Results<Ok<ReportResponse>, NotFound>> GetAsync(long reportId, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        return report is null ? TypedResults.NotFound() : TypedResults.Ok(ReportResponse.From(report, time.GetUtcNow()));
    }

    private static async Task<Results<Ok<ReportResponse>, NotFound>> UpdateAsync(
        long reportId, ReportRequest body, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        if (report is null)
        {
            return TypedResults.NotFound();
        }
        var updated = await settings.UpdateReportAsync(user.UserId(), report, body, cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(ReportResponse.From(updated, time.GetUtcNow()));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(
        long reportId, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        if (report is null)
        {
            return TypedResults.NotFound();
        }
        await settings.DeleteReportAsync(user.UserId(), report, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<ReportPreviewResponse>, NotFound>> SendNowAsync(
        long reportId, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var report = await store.GetReportForUserAsync(user.UserId(), reportId, cancellationToken);
        if (report is null)
        {
            return TypedResults.NotFound();
        }
        var mail = await settings.SendReportNowAsync(user.UserId(), report, cancellationToken);
        return TypedResults.Accepted((string?)null, new ReportPreviewResponse(mail.To, mail.Subject, mail.Text));
    }
}

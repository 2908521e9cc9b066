using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Cronos;
using Faultline.Alerts.Channels;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Alerts.Reports;

/// <summary>
/// Scheduled reports. Every minute each enabled schedule's latest cron occurrence (in its time zone) is
/// checked; the node that inserts the (schedule, period end) row sends that period's report, so a
/// report goes out once per period across restarts and nodes. The mail goes through the outbox.
/// </summary>
public sealed partial class ReportScheduler(
    IAlertStore store, OutboxDispatcher dispatcher, TimeProvider time, IOptions<FaultlineOptions> faultline, ILogger<ReportScheduler> logger) : BackgroundService
{
    /// <summary>A period missed while no node ran is still reported if it ended this recently.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromHours(6);

    private static readonly TimeSpan Tick = TimeSpan.FromMinutes(1);
    private const int ListLimit = 10;

    public static readonly IReadOnlyDictionary<string, string> Presets = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["daily"] = "0 9 * * *",
        ["weekly"] = "0 9 * * 1",
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRunFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Queues the report of every schedule whose period just ended and that no node has sent yet; returns how many.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sent = 0;
        foreach (var schedule in await store.ListEnabledReportsAsync(cancellationToken))
        {
            if (!TryParseSchedule(schedule.Draft, out var cron, out var zone))
            {
                continue;
            }
            var end = cron.GetOccurrences(now - Lookback, now, zone, fromInclusive: true, toInclusive: true).LastOrDefault();
            if (end == default || end <= schedule.CreatedAt)
            {
                continue;
            }
            var runId = await store.TryClaimReportRunAsync(schedule.Id, end, now, cancellationToken);
            if (runId is null)
            {
                continue;
            }
            var mail = await BuildAsync(schedule, PreviousOccurrence(cron, zone, end), end, preview: false, cancellationToken);
            await store.QueueOutboxAsync(schedule.OrganizationId, runId,
                [new OutboxMessage(null, ReportMailSender.ChannelType, JsonSerializer.Serialize(mail, AlertNotifier.Json))], now, cancellationToken);
            sent++;
        }
        if (sent > 0)
        {
            dispatcher.Wake();
        }
        return sent;
    }

    /// <summary>"Send now": the last complete period's report, marked as a preview; it does not count as the period's run.</summary>
    public async Task<MailMessage> SendPreviewAsync(ReportSchedule schedule, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!TryParseSchedule(schedule.Draft, out var cron, out var zone))
        {
            throw new AlertValidationException("The schedule's cron expression or time zone is not valid.");
        }
        var end = PreviousOccurrence(cron, zone, now.AddTicks(1));
        var mail = await BuildAsync(schedule, PreviousOccurrence(cron, zone, end), end, preview: true, cancellationToken);
        await store.QueueOutboxAsync(schedule.OrganizationId, null,
            [new OutboxMessage(null, ReportMailSender.ChannelType, JsonSerializer.Serialize(mail, AlertNotifier.Json))], now, cancellationToken);
        dispatcher.Wake();
        return mail;
    }

    public static bool TryParseSchedule(ReportScheduleDraft draft, out CronExpression cron, out TimeZoneInfo zone)
    {
        cron = null!;
        zone = TimeZoneInfo.Utc;
        try
        {
            cron = CronExpression.Parse(draft.Cron);
            zone = TimeZoneInfo.FindSystemTimeZoneById(draft.TimeZone);
            return true;
        }
        catch (Exception e) when (e is CronFormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }
    }

    /// <summary>The occurrence before <paramref name="end"/>; for schedules rarer than monthly, 31 days back.</summary>
    public static DateTimeOffset PreviousOccurrence(CronExpression cron, TimeZoneInfo zone, DateTimeOffset end) =>
        cron.GetOccurrences(end.AddDays(-32), end, zone, fromInclusive: true, toInclusive: false).LastOrDefault() is { } previous && previous != default
            ? previous
            : end.AddDays(-31);

    private async Task<MailMessage> BuildAsync(ReportSchedule schedule, DateTimeOffset start, DateTimeOffset end, bool preview, CancellationToken cancellationToken)
    {
        var projects = schedule.Draft.ProjectId is { } projectId
            ? (await store.GetProjectAsync(projectId, cancellationToken) is { } project ? [project] : [])
            : await store.ListOrganizationProjectsAsync(schedule.OrganizationId, cancellationToken);
        var ids = projects.Select(p => p.Id).ToList();
        var length = end - start;
        var total = await store.CountEventsAsync(ids, start, end, cancellationToken);
        var previous = await store.CountEventsAsync(ids, start - length, start, cancellationToken);
        var top = await store.ListTopIssuesAsync(ids, start, end, ListLimit, cancellationToken);
        var created = await store.ListNewIssuesAsync(ids, start, end, ListLimit, cancellationToken);
        var regressed = await store.ListRegressedIssuesAsync(ids, start, end, ListLimit, cancellationToken);
        var zone = TryParseSchedule(schedule.Draft, out _, out var z) ? z : TimeZoneInfo.Utc;

        var scope = schedule.Draft.ProjectId is null || projects.Count != 1 ? $"organization {projects.FirstOrDefault()?.OrganizationSlug ?? ""}".TrimEnd() : projects[0].Name;
        var change = Change(total, previous);
        var period = $"{Local(start, zone)} to {Local(end, zone)} ({schedule.Draft.TimeZone})";
        var subject = string.Create(CultureInfo.InvariantCulture, $"{(preview ? "[preview] " : "")}{schedule.Draft.Name} for {scope}: {total} events ({change})");
        var root = faultline.Value.PublicUrl.TrimEnd('/');
        string Link(IssueRecord issue) => string.Create(CultureInfo.InvariantCulture, $"{root}/projects/{issue.ProjectId}/issues/{issue.Id}");

        var sections = new List<(string Title, List<(string Line, string Link)> Items)>
        {
            ("Top issues", top.Select(t => (string.Create(CultureInfo.InvariantCulture, $"{t.Issue.Title} ({t.Count} events)"), Link(t.Issue))).ToList()),
            ("New issues", created.Select(i => (i.Title, Link(i))).ToList()),
            ("Regressions", regressed.Select(i => (i.Title, Link(i))).ToList()),
        };
        var text = new StringBuilder()
            .AppendLine(subject).AppendLine()
            .Append("Period: ").AppendLine(period)
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"Events: {total} (previous period: {previous}, {change})"))
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"New issues: {created.Count}, regressions: {regressed.Count}"));
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">")
            .Append("<h2>").Append(WebUtility.HtmlEncode(subject)).Append("</h2>")
            .Append("<p>").Append(WebUtility.HtmlEncode(period)).Append("</p>")
            .Append(CultureInfo.InvariantCulture, $"<p><b>Events:</b> {total} (previous period: {previous}, {WebUtility.HtmlEncode(change)})</p>");
        foreach (var (title, items) in sections)
        {
            text.AppendLine().AppendLine(title + ":");
            html.Append("<h3>").Append(title).Append("</h3>");
            if (items.Count == 0)
            {
                text.AppendLine("  none");
                html.Append("<p>none</p>");
                continue;
            }
            html.Append("<ul>");
            foreach (var (line, link) in items)
            {
                text.Append("  - ").Append(line).Append(' ').AppendLine(link);
                html.Append("<li><a href=\"").Append(WebUtility.HtmlEncode(link)).Append("\">").Append(WebUtility.HtmlEncode(line)).Append("</a></li>");
            }
            html.Append("</ul>");
        }
        html.Append("</body></html>");
        return new MailMessage(schedule.Draft.Recipients, subject, html.ToString(), text.ToString());
    }

    private static string Change(long total, long previous) =>
        previous == 0
            ? (total == 0 ? "no change" : "none in the previous period")
            : string.Create(CultureInfo.InvariantCulture, $"{(total >= previous ? "+" : "")}{Math.Round((total - previous) * 100.0 / previous)}% vs previous period");

    private static string Local(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled reports run failed")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);
}

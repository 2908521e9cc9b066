using System.Text.Json;
using Faultline.Accounts;
using Faultline.Alerts.Channels;
using Faultline.Alerts.Reports;
using Faultline.Events;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Alerts;

/// <summary>
/// Changes to channels, rules and report schedules on behalf of a user who can already see them (the
/// caller looked them up with a *ForUser method): checks the role (owners and admins change, members
/// read), validates, saves and refreshes the evaluator's rules. Used by the HTTP API and the dashboard
/// pages alike, so both refuse the same things with the same messages.
/// </summary>
public sealed class AlertSettings(
    IAlertStore store, IAccountAdminStore memberships, AlertRuleCache cache, AlertNotifier notifier, ReportScheduler reports,
    TimeProvider time, IOptions<AlertOptions> options)
{
    public const int MaxNameLength = 200;
    public const int MaxRecipients = 50;
    public const int MaxChannelsPerRule = 20;
    public static readonly IReadOnlyList<string> ChannelTypes = ["email", "slack", "webhook", "jira"];
    public static readonly IReadOnlyList<string> RuleTypes = ["threshold", "new_issue", "regression", "issue_frequency"];

    /// <summary>The user's role in the organization, or null when not a member.</summary>
    public async Task<string?> RoleAsync(long userId, long organizationId, CancellationToken cancellationToken) =>
        (await memberships.GetMembershipAsync(userId, organizationId, cancellationToken))?.Role;

    public async Task<bool> CanManageAsync(long userId, long organizationId, CancellationToken cancellationToken) =>
        await RoleAsync(userId, organizationId, cancellationToken) is { } role && Roles.CanManage(role);

    public async Task<AlertChannel> CreateChannelAsync(long userId, long organizationId, ChannelRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, organizationId, cancellationToken);
        var type = body.Type?.Trim().ToLowerInvariant();
        if (type is null || !ChannelTypes.Contains(type))
        {
            throw new AlertValidationException($"type must be one of {string.Join(", ", ChannelTypes)}.");
        }
        var (name, config, secret) = ValidateChannel(type, body, creating: true);
        return await store.CreateChannelAsync(organizationId, name, type, config, secret, time.GetUtcNow(), cancellationToken);
    }

    public async Task<AlertChannel?> UpdateChannelAsync(long userId, AlertChannel channel, ChannelRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, channel.OrganizationId, cancellationToken);
        if (body.Type is not null && !string.Equals(body.Type.Trim(), channel.Type, StringComparison.OrdinalIgnoreCase))
        {
            throw new AlertValidationException("A channel's type cannot change: create a new channel.");
        }
        var (name, config, secret) = ValidateChannel(channel.Type, body, creating: false);
        return await store.UpdateChannelAsync(channel.Id, name, config, secret, time.GetUtcNow(), cancellationToken);
    }

    public async Task DeleteChannelAsync(long userId, AlertChannel channel, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, channel.OrganizationId, cancellationToken);
        await store.DeleteChannelAsync(channel.Id, cancellationToken);
    }

    public async Task<AlertRule> CreateRuleAsync(long userId, ProjectRecord project, RuleRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, project.OrganizationId, cancellationToken);
        var draft = await ValidateRuleAsync(body, project.OrganizationId, cancellationToken);
        var rule = await store.CreateRuleAsync(project.Id, draft, time.GetUtcNow(), cancellationToken);
        cache.Invalidate();
        return rule;
    }

    public async Task<AlertRule?> UpdateRuleAsync(long userId, AlertRule rule, RuleRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, rule.OrganizationId, cancellationToken);
        var draft = await ValidateRuleAsync(body, rule.OrganizationId, cancellationToken);
        return await SaveRuleAsync(rule, draft, cancellationToken);
    }

    /// <summary>Enables or disables the rule, keeping everything else.</summary>
    public async Task<AlertRule?> SetEnabledAsync(long userId, AlertRule rule, bool enabled, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, rule.OrganizationId, cancellationToken);
        return await SaveRuleAsync(rule, rule.Draft with { Enabled = enabled }, cancellationToken);
    }

    /// <summary>Snoozes the rule until <paramref name="until"/> (which must be in the future), or wakes it with null.</summary>
    public async Task<AlertRule?> SnoozeAsync(long userId, AlertRule rule, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, rule.OrganizationId, cancellationToken);
        var now = time.GetUtcNow();
        if (until is { } end && (end <= now || end > now.AddYears(1)))
        {
            throw new AlertValidationException("A snooze must end in the future and within a year.");
        }
        return await SaveRuleAsync(rule, rule.Draft with { SnoozedUntil = until }, cancellationToken);
    }

    public async Task DeleteRuleAsync(long userId, AlertRule rule, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, rule.OrganizationId, cancellationToken);
        await store.DeleteRuleAsync(rule.Id, cancellationToken);
        cache.Invalidate();
    }

    /// <summary>Sends a test notification through the rule's channels (ignoring cooldown and snooze); returns its history entry.</summary>
    public async Task<AlertHistoryEntry> TestRuleAsync(long userId, AlertRule rule, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, rule.OrganizationId, cancellationToken);
        if (rule.Draft.ChannelIds.Count == 0)
        {
            throw new AlertValidationException("The rule has no channels to test.");
        }
        var historyId = await notifier.FireAsync(rule, 0, null, 0, "Test notification", isTest: true, time.GetUtcNow(), cancellationToken)
            ?? throw new InvalidOperationException("A test notification is never held back by the cooldown.");
        return (await store.ListHistoryAsync(rule.Id, 20, cancellationToken)).First(h => h.Id == historyId);
    }

    public async Task<ReportSchedule> CreateReportAsync(long userId, long organizationId, ReportRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, organizationId, cancellationToken);
        var draft = await ValidateReportAsync(body, organizationId, cancellationToken);
        return await store.CreateReportAsync(organizationId, draft, time.GetUtcNow(), cancellationToken);
    }

    public async Task<ReportSchedule?> UpdateReportAsync(long userId, ReportSchedule report, ReportRequest body, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, report.OrganizationId, cancellationToken);
        var draft = await ValidateReportAsync(body, report.OrganizationId, cancellationToken);
        return await store.UpdateReportAsync(report.Id, draft, time.GetUtcNow(), cancellationToken);
    }

    public async Task DeleteReportAsync(long userId, ReportSchedule report, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, report.OrganizationId, cancellationToken);
        await store.DeleteReportAsync(report.Id, cancellationToken);
    }

    /// <summary>Queues the last complete period's report to the schedule's recipients now, as a preview.</summary>
    public async Task<MailMessage> SendReportNowAsync(long userId, ReportSchedule report, CancellationToken cancellationToken)
    {
        await RequireManagerAsync(userId, report.OrganizationId, cancellationToken);
        return await reports.SendPreviewAsync(report, cancellationToken);
    }

    private async Task<AlertRule?> SaveRuleAsync(AlertRule rule, AlertRuleDraft draft, CancellationToken cancellationToken)
    {
        var updated = await store.UpdateRuleAsync(rule.Id, draft, time.GetUtcNow(), cancellationToken);
        cache.Invalidate();
        return updated;
    }

    private async Task RequireManagerAsync(long userId, long organizationId, CancellationToken cancellationToken)
    {
        if (!await CanManageAsync(userId, organizationId, cancellationToken))
        {
            throw new AlertForbiddenException("Only owners and admins of the organization change alerts, channels and reports.");
        }
    }

    private static (string Name, string Config, string? Secret) ValidateChannel(string type, ChannelRequest body, bool creating)
    {
        var name = Name(body.Name);
        string? secret = string.IsNullOrWhiteSpace(body.Secret) ? null : body.Secret.Trim();
        ChannelConfig config;
        switch (type)
        {
            case "email":
                config = new ChannelConfig { Recipients = Recipients(body.Recipients) };
                secret = null;
                break;
            case "slack":
                // The incoming-webhook URL is the credential: it goes to the secret column and is never shown.
                var slackUrl = string.IsNullOrWhiteSpace(body.Url) ? secret : body.Url;
                secret = slackUrl is null ? null : HttpUrl(slackUrl, "url");
                if (creating && secret is null)
                {
                    throw new AlertValidationException("url (the Slack incoming-webhook URL) is required.");
                }
                config = new ChannelConfig();
                break;
            case "webhook":
                config = new ChannelConfig { Url = HttpUrl(string.IsNullOrWhiteSpace(body.Url) ? throw new AlertValidationException("url is required.") : body.Url, "url") };
                if (creating && secret is null)
                {
                    throw new AlertValidationException("secret (the key receivers verify the HMAC-SHA256 signature with) is required.");
                }
                if (secret is { Length: < 16 })
                {
                    throw new AlertValidationException("secret must be at least 16 characters.");
                }
                break;
            default:
                config = new ChannelConfig
                {
                    SiteUrl = HttpUrl(string.IsNullOrWhiteSpace(body.SiteUrl) ? throw new AlertValidationException("siteUrl (https://your-site.atlassian.net) is required.") : body.SiteUrl, "siteUrl"),
                    Email = string.IsNullOrWhiteSpace(body.Email) ? throw new AlertValidationException("email (the Jira account of the API token) is required.") : body.Email.Trim(),
                    ProjectKey = string.IsNullOrWhiteSpace(body.ProjectKey) ? throw new AlertValidationException("projectKey is required.") : body.ProjectKey.Trim(),
                    IssueType = string.IsNullOrWhiteSpace(body.IssueType) ? "Bug" : body.IssueType.Trim(),
                };
                if (creating && secret is null)
                {
                    throw new AlertValidationException("secret (the Jira API token) is required.");
                }
                break;
        }
        return (name, JsonSerializer.Serialize(config, AlertNotifier.Json), secret);
    }

    private async Task<AlertRuleDraft> ValidateRuleAsync(RuleRequest body, long organizationId, CancellationToken cancellationToken)
    {
        var name = Name(body.Name);
        AlertRuleType type;
        try
        {
            type = SqlStoreBase.ParseRuleType(body.Type?.Trim().ToLowerInvariant() ?? "");
        }
        catch (InvalidOperationException)
        {
            throw new AlertValidationException("type must be threshold, new_issue, regression or issue_frequency.");
        }
        int? threshold = null;
        int? window = null;
        if (type is AlertRuleType.Threshold or AlertRuleType.IssueFrequency)
        {
            var max = options.Value.MaxThreshold;
            threshold = body.Threshold is { } t && t >= 0 && t <= max
                ? t : throw new AlertValidationException($"threshold (fire on more than this many events) must be 0 to {max}.");
            window = body.WindowSeconds is { } w && w >= 1 && w <= 86_400
                ? w : throw new AlertValidationException("windowSeconds must be 1 to 86400.");
        }
        EventLevel? level = null;
        if (!string.IsNullOrWhiteSpace(body.Level))
        {
            level = EventLevels.TryParse(body.Level, out var parsed) ? parsed : throw new AlertValidationException("level must be debug, info, warning, error or fatal.");
        }
        var cooldown = body.CooldownSeconds ?? 600;
        if (cooldown is < 0 or > 30 * 86_400)
        {
            throw new AlertValidationException("cooldownSeconds must be 0 to 2592000 (30 days).");
        }
        var channelIds = (body.ChannelIds ?? []).Distinct().ToList();
        if (channelIds.Count > MaxChannelsPerRule)
        {
            throw new AlertValidationException($"A rule may use at most {MaxChannelsPerRule} channels.");
        }
        var known = (await store.ListChannelsAsync(organizationId, cancellationToken)).Select(c => c.Id).ToHashSet();
        if (channelIds.Where(id => !known.Contains(id)).Select(id => (long?)id).FirstOrDefault() is { } unknown)
        {
            throw new AlertValidationException($"channelIds: {unknown} is not a channel of this project's organization.");
        }
        var draft = new AlertRuleDraft(name, type, body.Enabled ?? true, threshold, window, level,
            Optional(body.Environment), Optional(body.Release), Optional(body.Query), cooldown, body.SnoozedUntil, channelIds);
        RuleMatcher.Create(draft, time.GetUtcNow()); // a query the evaluator cannot run is a 400 now, not a silent rule later
        return draft;
    }

    private async Task<ReportScheduleDraft> ValidateReportAsync(ReportRequest body, long organizationId, CancellationToken cancellationToken)
    {
        var name = Name(body.Name);
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
        var recipients = Recipients(body.Recipients);
        if (body.ProjectId is { } projectId && !(await store.ListOrganizationProjectsAsync(organizationId, cancellationToken)).Any(p => p.Id == projectId))
        {
            throw new AlertValidationException($"projectId: {projectId} is not a project of this organization.");
        }
        var draft = new ReportScheduleDraft(name, body.ProjectId, cron, zone, recipients, body.Enabled ?? true);
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
            throw new AlertValidationException($"timeZone: '{Show(zone)}' is not a known time zone (use an IANA name such as Europe/Berlin).");
        }
        return draft;
    }

    private static List<string> Recipients(IReadOnlyList<string>? values)
    {
        var recipients = (values ?? []).Select(r => r?.Trim() ?? "").Where(r => r.Length > 0).ToList();
        if (recipients.Count is 0 or > MaxRecipients)
        {
            throw new AlertValidationException($"recipients must list 1 to {MaxRecipients} email addresses.");
        }
        foreach (var recipient in recipients)
        {
            if (!MimeKit.MailboxAddress.TryParse(recipient, out var address) || !address.Address.Contains('@', StringComparison.Ordinal))
            {
                throw new AlertValidationException($"recipients: '{Show(recipient)}' is not an email address.");
            }
        }
        return recipients;
    }

    private static string Name(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength
            ? throw new AlertValidationException($"name is required (at most {MaxNameLength} characters).")
            : name.Trim();

    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string HttpUrl(string value, string field) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri.ToString()
            : throw new AlertValidationException($"{field} must be an absolute http or https URL.");

    private static string Show(string value) => value.Length > 60 ? value[..60] + "..." : value;
}

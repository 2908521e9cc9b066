using Faultline.Events;
using Faultline.Search;
using Faultline.Storage;

namespace Faultline.Alerts;

public enum AlertRuleType
{
    /// <summary>More than N matching events of the project in a sliding window.</summary>
    Threshold,

    /// <summary>The first event of a new issue.</summary>
    NewIssue,

    /// <summary>An event on a resolved issue (the issue reopens).</summary>
    Regression,

    /// <summary>One issue receives more than N matching events in a sliding window.</summary>
    IssueFrequency,
}

/// <summary>A channel as the API shows it: the secret only as "set or not".</summary>
public sealed record AlertChannel(
    long Id, long OrganizationId, string Name, string Type, string Config, bool HasSecret, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What a rule is; shared by create and update.</summary>
public sealed record AlertRuleDraft(
    string Name,
    AlertRuleType Type,
    bool Enabled,
    int? Threshold,
    int? WindowSeconds,
    EventLevel? MinLevel,
    string? Environment,
    string? Release,
    string? Query,
    int CooldownSeconds,
    DateTimeOffset? SnoozedUntil,
    IReadOnlyList<long> ChannelIds);

public sealed record AlertRule(long Id, long ProjectId, long OrganizationId, AlertRuleDraft Draft, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One notification waiting in (or gone through) the outbox.</summary>
public sealed record OutboxEntry(
    long Id, long OrganizationId, long? HistoryId, long? ReportRunId, long? ChannelId, string ChannelType, string Payload,
    string Status, int Attempts, DateTimeOffset NextAttemptAt, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt);

public static class OutboxStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>A notification to put in the outbox: the channel and the rendered facts (JSON of <see cref="Notification"/> or a report).</summary>
public sealed record OutboxMessage(long? ChannelId, string ChannelType, string Payload);

/// <summary>
/// A rule that wants to fire. <see cref="IssueId"/> is 0 for rule-wide cooldowns (threshold rules).
/// The firing is claimed only when the last one for the same (rule, issue) is at or before <see cref="CooldownCutoff"/>.
/// </summary>
public sealed record AlertFiring(
    long RuleId, long ProjectId, long OrganizationId, long IssueId, string Reason, bool IsTest,
    DateTimeOffset Now, DateTimeOffset CooldownCutoff, IReadOnlyList<OutboxMessage> Messages);

public sealed record AlertHistoryEntry(long Id, long RuleId, long ProjectId, long? IssueId, DateTimeOffset FiredAt, string Reason, bool IsTest, IReadOnlyList<OutboxEntry> Deliveries);

public sealed record RecentEvent(Guid EventId, DateTimeOffset ReceivedAt);

public sealed record JiraLink(long ChannelId, long IssueId, string Key, string Url);

public sealed record ReportScheduleDraft(string Name, long? ProjectId, string Cron, string TimeZone, IReadOnlyList<string> Recipients, bool Enabled);

public sealed record ReportSchedule(long Id, long OrganizationId, ReportScheduleDraft Draft, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record IssueCount(IssueRecord Issue, long Count);

/// <summary>Alert rules, channels, history, the outbox, Jira links and report schedules; both engines implement it.</summary>
public interface IAlertStore
{
    Task<OrganizationRecord?> GetOrganizationForUserAsync(long userId, string slug, CancellationToken cancellationToken);

    Task<AlertChannel> CreateChannelAsync(long organizationId, string name, string type, string config, string? secret, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Updates name and config; the secret only when <paramref name="secret"/> is not null.</summary>
    Task<AlertChannel?> UpdateChannelAsync(long channelId, string name, string config, string? secret, DateTimeOffset now, CancellationToken cancellationToken);

    Task DeleteChannelAsync(long channelId, CancellationToken cancellationToken);

    /// <summary>The channel, or null when it does not exist or the user is not a member of its organization.</summary>
    Task<AlertChannel?> GetChannelForUserAsync(long userId, long channelId, CancellationToken cancellationToken);

    Task<IReadOnlyList<AlertChannel>> ListChannelsAsync(long organizationId, CancellationToken cancellationToken);

    /// <summary>For delivery only: the channel with its secret.</summary>
    Task<(AlertChannel Channel, string? Secret)?> GetChannelWithSecretAsync(long channelId, CancellationToken cancellationToken);

    Task<AlertRule> CreateRuleAsync(long projectId, AlertRuleDraft draft, DateTimeOffset now, CancellationToken cancellationToken);

    Task<AlertRule?> UpdateRuleAsync(long ruleId, AlertRuleDraft draft, DateTimeOffset now, CancellationToken cancellationToken);

    Task DeleteRuleAsync(long ruleId, CancellationToken cancellationToken);

    Task<AlertRule?> GetRuleForUserAsync(long userId, long ruleId, CancellationToken cancellationToken);

    Task<IReadOnlyList<AlertRule>> ListRulesAsync(long projectId, CancellationToken cancellationToken);

    /// <summary>Every enabled rule of every project, for the evaluator.</summary>
    Task<IReadOnlyList<AlertRule>> ListEnabledRulesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: claims the cooldown, records the history entry and queues the messages.
    /// Returns the history id, or null when the cooldown is still running (nothing is written).
    /// </summary>
    Task<long?> TryFireAsync(AlertFiring firing, CancellationToken cancellationToken);

    Task<IReadOnlyList<AlertHistoryEntry>> ListHistoryAsync(long ruleId, int limit, CancellationToken cancellationToken);

    /// <summary>The newest events of a project (or of one issue) received at or after <paramref name="since"/> that match, newest first.</summary>
    Task<IReadOnlyList<RecentEvent>> ListRecentEventsAsync(long projectId, long? issueId, SearchQuery query, EventLevel? minLevel, DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="limit"/> due pending rows and leases them until <paramref name="leaseUntil"/>.</summary>
    Task<IReadOnlyList<OutboxEntry>> ClaimDueOutboxAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken);

    Task QueueOutboxAsync(long organizationId, long? reportRunId, IReadOnlyList<OutboxMessage> messages, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records an attempt: delivered, failed for good, or pending again at <paramref name="nextAttemptAt"/>.</summary>
    Task CompleteOutboxAsync(long id, string status, int attempts, DateTimeOffset nextAttemptAt, string? error, DateTimeOffset? deliveredAt, CancellationToken cancellationToken);

    Task<IReadOnlyList<OutboxEntry>> ListOutboxAsync(long organizationId, string? status, int limit, CancellationToken cancellationToken);

    Task<JiraLink?> GetJiraLinkAsync(long channelId, long issueId, CancellationToken cancellationToken);

    Task SaveJiraLinkAsync(JiraLink link, DateTimeOffset now, CancellationToken cancellationToken);

    Task<IssueRecord?> GetIssueAsync(long issueId, CancellationToken cancellationToken);

    Task<ProjectRecord?> GetProjectAsync(long projectId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ProjectRecord>> ListOrganizationProjectsAsync(long organizationId, CancellationToken cancellationToken);

    Task<ReportSchedule> CreateReportAsync(long organizationId, ReportScheduleDraft draft, DateTimeOffset now, CancellationToken cancellationToken);

    Task<ReportSchedule?> UpdateReportAsync(long reportId, ReportScheduleDraft draft, DateTimeOffset now, CancellationToken cancellationToken);

    Task DeleteReportAsync(long reportId, CancellationToken cancellationToken);

    Task<ReportSchedule?> GetReportForUserAsync(long userId, long reportId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ReportSchedule>> ListReportsAsync(long organizationId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ReportSchedule>> ListEnabledReportsAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the (schedule, period end) row; returns its id, or null when another run (node) already has it.</summary>
    Task<long?> TryClaimReportRunAsync(long scheduleId, DateTimeOffset periodEnd, DateTimeOffset now, CancellationToken cancellationToken);

    Task<long> CountEventsAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Issues by number of events received in the period, most first.</summary>
    Task<IReadOnlyList<IssueCount>> ListTopIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken);

    /// <summary>Issues first seen in the period.</summary>
    Task<IReadOnlyList<IssueRecord>> ListNewIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken);

    /// <summary>Issues that regressed (reopened) in the period.</summary>
    Task<IReadOnlyList<IssueRecord>> ListRegressedIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken);
}

using Faultline.Alerts.Channels;

namespace Faultline.Alerts;

/// <summary>
/// A channel to create or replace. Email: recipients. Slack: url (the incoming-webhook URL, kept as a secret).
/// Webhook: url and secret (the HMAC key). Jira: siteUrl, email, projectKey, issueType and secret (the API token).
/// On update an omitted secret (or Slack url) keeps the stored one.
/// </summary>
public sealed record ChannelRequest(
    string? Name, string? Type, IReadOnlyList<string>? Recipients, string? Url, string? Secret,
    string? SiteUrl, string? Email, string? ProjectKey, string? IssueType);

/// <summary>A channel as shown: secrets never, only whether one is set.</summary>
public sealed record ChannelResponse(
    long Id, long OrganizationId, string Name, string Type, IReadOnlyList<string>? Recipients, string? Url,
    string? SiteUrl, string? Email, string? ProjectKey, string? IssueType, bool HasSecret, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ChannelResponse From(AlertChannel c)
    {
        var config = System.Text.Json.JsonSerializer.Deserialize<ChannelConfig>(c.Config, AlertNotifier.Json) ?? new ChannelConfig();
        return new(c.Id, c.OrganizationId, c.Name, c.Type, config.Recipients, config.Url, config.SiteUrl, config.Email, config.ProjectKey,
            config.IssueType, c.HasSecret, c.CreatedAt, c.UpdatedAt);
    }
}

/// <summary>
/// A rule to create or replace. type: threshold, new_issue, regression or issue_frequency. threshold and
/// windowSeconds ("more than threshold events in windowSeconds") apply to threshold and issue_frequency.
/// level is a minimum (error also matches fatal). query uses the search language (no is: filters).
/// </summary>
public sealed record RuleRequest(
    string? Name, string? Type, bool? Enabled, int? Threshold, int? WindowSeconds, string? Level, string? Environment, string? Release,
    string? Query, int? CooldownSeconds, DateTimeOffset? SnoozedUntil, IReadOnlyList<long>? ChannelIds);

public sealed record RuleResponse(
    long Id, long ProjectId, string Name, string Type, bool Enabled, int? Threshold, int? WindowSeconds, string? Level, string? Environment,
    string? Release, string? Query, int CooldownSeconds, DateTimeOffset? SnoozedUntil, IReadOnlyList<long> ChannelIds, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static RuleResponse From(AlertRule r) => new(
        r.Id, r.ProjectId, r.Draft.Name, Storage.SqlStoreBase.RuleTypeName(r.Draft.Type), r.Draft.Enabled, r.Draft.Threshold, r.Draft.WindowSeconds,
        r.Draft.MinLevel is { } level ? Events.EventLevels.ToWire(level) : null, r.Draft.Environment, r.Draft.Release, r.Draft.Query,
        r.Draft.CooldownSeconds, r.Draft.SnoozedUntil, r.Draft.ChannelIds, r.CreatedAt, r.UpdatedAt);
}

/// <summary>
/// One outbox row: its channel, status (pending, delivered, failed) and dispatches so far. detail is the last
/// error, or for a delivered row what the channel did (e.g. "created OPS-12" for Jira).
/// </summary>
public sealed record DeliveryResponse(
    long Id, long? ChannelId, string ChannelType, string Status, int Attempts, DateTimeOffset NextAttemptAt, string? Detail,
    DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, long? HistoryId, long? ReportRunId)
{
    public static DeliveryResponse From(OutboxEntry o) =>
        new(o.Id, o.ChannelId, o.ChannelType, o.Status, o.Attempts, o.NextAttemptAt, o.LastError, o.CreatedAt, o.DeliveredAt, o.HistoryId, o.ReportRunId);
}

public sealed record HistoryResponse(long Id, long RuleId, long? IssueId, DateTimeOffset FiredAt, string Reason, bool Test, IReadOnlyList<DeliveryResponse> Deliveries)
{
    public static HistoryResponse From(AlertHistoryEntry h) =>
        new(h.Id, h.RuleId, h.IssueId, h.FiredAt, h.Reason, h.IsTest, h.Deliveries.Select(DeliveryResponse.From).ToList());
}

/// <summary>A bad rule, channel or report: a 400 that says which field and why.</summary>
public sealed class AlertValidationException(string message) : Exception(message);

/// <summary>A member (not an owner or admin) tried to change alerts: a 403 that says who may.</summary>
public sealed class AlertForbiddenException(string message) : Exception(message);

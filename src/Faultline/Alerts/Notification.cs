namespace Faultline.Alerts;

/// <summary>
/// What one alert says, rendered once when the rule fires and stored in the outbox row, so a retry
/// sends the same facts even after the issue changed.
/// </summary>
public sealed record Notification(
    bool IsTest,
    long RuleId,
    string RuleName,
    string RuleType,
    string Reason,
    long ProjectId,
    string Project,
    string Organization,
    long? IssueId,
    string Title,
    string Level,
    long Count,
    string? TopFrame,
    string? Environment,
    string? Release,
    string Link,
    DateTimeOffset FiredAt);

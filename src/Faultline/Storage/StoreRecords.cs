using Faultline.Events;

namespace Faultline.Storage;

public sealed record UserRecord(long Id, string Email, string PasswordHash, bool IsAdmin, DateTimeOffset CreatedAt);

public sealed record OrganizationRecord(long Id, string Slug, string Name, DateTimeOffset CreatedAt);

public sealed record ProjectRecord(long Id, long OrganizationId, string OrganizationSlug, string Name, string Slug, DateTimeOffset CreatedAt);

public sealed record ProjectKeyRecord(
    long Id,
    long ProjectId,
    long OrganizationId,
    string PublicKey,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt,
    double? RateLimitPerSecond);

/// <summary>The user an API token belongs to; only the token's hash is stored.</summary>
public sealed record TokenOwner(long TokenId, long UserId, string Email, bool IsAdmin);

public enum IssueStatus
{
    Unresolved,
    Resolved,
    Ignored,
}

public sealed record IssueRecord(
    long Id,
    long ProjectId,
    string Fingerprint,
    string Title,
    string? Culprit,
    EventLevel Level,
    IssueStatus Status,
    bool Regressed,
    bool Reviewed,
    long TimesSeen,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    DateTimeOffset? ResolvedAt);

/// <summary>One stored event row; <see cref="Payload"/> is the canonical event JSON.</summary>
public sealed record EventRecord(
    Guid EventId,
    long ProjectId,
    long IssueId,
    DateTimeOffset ReceivedAt,
    DateTimeOffset Timestamp,
    EventLevel Level,
    string? Message,
    string? ExceptionType,
    string? ExceptionValue,
    string? Environment,
    string? Release,
    string? Logger,
    string Payload);

/// <summary>An event ready for the writer: normalised, grouped, serialised.</summary>
public sealed record PreparedEvent(
    long ProjectId,
    FaultlineEvent Event,
    string Fingerprint,
    string Title,
    string? Culprit,
    DateTimeOffset ReceivedAt,
    byte[] PayloadJson);

/// <summary>What one committed batch changed: the events newly stored (duplicates excluded) and their issues.</summary>
public sealed record BatchWriteResult(IReadOnlyList<StoredEvent> Stored, IReadOnlyList<IssueChange> Issues);

public sealed record StoredEvent(PreparedEvent Event, long IssueId);

/// <summary>How a batch touched an issue; new and regressed issues feed alert rules.</summary>
public sealed record IssueChange(long IssueId, long ProjectId, string Fingerprint, bool Created, bool Regressed, int NewEvents);

public enum IssueSort
{
    LastSeen,
    FirstSeen,
    Count,
}

public sealed record IssueUpdate(IssueStatus? Status, bool? Reviewed);

/// <summary>One page of a keyset-paginated list; <see cref="PreviousCursor"/> is set where a list can page backwards.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor, string? PreviousCursor = null);

public sealed record StatsBucket(DateTimeOffset Start, long Count);

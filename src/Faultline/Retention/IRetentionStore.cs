using Faultline.Events;
using Faultline.Storage;

namespace Faultline.Retention;

/// <summary>Storage for retention: policies, the sweep's lease and state machine, archiving and restoring event rows.</summary>
public interface IRetentionStore
{
    /// <summary>The policy stored for a project or an organization, or null when it inherits.</summary>
    Task<RetentionPolicy?> GetRetentionPolicyAsync(RetentionScope scope, long scopeId, CancellationToken cancellationToken);

    /// <summary>Stores a policy for a project or organization; null removes it (it inherits again).</summary>
    Task SetRetentionPolicyAsync(RetentionScope scope, long scopeId, RetentionPolicy? policy, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Every project of every organization (the sweep's work list).</summary>
    Task<IReadOnlyList<ProjectRecord>> ListAllProjectsAsync(CancellationToken cancellationToken);

    Task<bool> IsOrganizationMemberAsync(long userId, long organizationId, CancellationToken cancellationToken);

    /// <summary>
    /// Marks an issue so that its events stay in hot storage until the issue is reviewed or resolved,
    /// whatever its level and the project's "keep unreviewed" setting (used for critical container streams).
    /// Returns false when the issue does not exist.
    /// </summary>
    Task<bool> SetKeepUntilReviewedAsync(long issueId, bool keep, CancellationToken cancellationToken);

    /// <summary>An issue's keep state (project, level, status, reviewed, flag), or null when it does not exist.</summary>
    Task<IssueKeepState?> GetIssueKeepStateAsync(long issueId, CancellationToken cancellationToken);

    /// <summary>
    /// The project's issues whose events the rule keeps hot (neither reviewed nor resolved, and flagged or at or above the level),
    /// by id after <paramref name="afterIssueId"/>, with how many of their hot events were received before <paramref name="hotCutoff"/> (held past retention).
    /// </summary>
    Task<IReadOnlyList<KeptIssue>> ListKeptIssuesAsync(long projectId, KeepRule keep, DateTimeOffset hotCutoff, long? afterIssueId, int limit, CancellationToken cancellationToken);

    /// <summary>Takes or renews a named lease until <paramref name="until"/>; false when another holder has it.</summary>
    Task<bool> TryAcquireLeaseAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    Task ReleaseLeaseAsync(string name, string holder, CancellationToken cancellationToken);

    /// <summary>The received time of the oldest event of the project in [from, before) that the sweep may archive.</summary>
    Task<DateTimeOffset?> OldestSweepableAsync(long projectId, DateTimeOffset from, DateTimeOffset before, KeepRule keep, CancellationToken cancellationToken);

    Task<IReadOnlyList<ArchiveBatch>> ListArchiveBatchesAsync(long? projectId, CancellationToken cancellationToken);

    /// <summary>Records a new batch for (project, day) with the next sequence number, in state Planned.</summary>
    Task<ArchiveBatch> PlanArchiveBatchAsync(long projectId, DateOnly day, Func<int, (string ObjectKey, string ManifestKey)> keys, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Streams the project's sweepable events received on that UTC day, in a stable order. SQLite reads
    /// them in pages and calls the sink with no read open, so a sink that pauses does not hold back WAL checkpoints.
    /// </summary>
    Task ReadSweepableEventsAsync(long projectId, DateOnly day, KeepRule keep, Func<ArchivedEvent, ValueTask> sink, CancellationToken cancellationToken);

    Task MarkArchiveBatchAsync(long batchId, ArchiveBatchState state, ArchiveObjectInfo? info, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the hot rows listed in the verified batches of one day and marks the batches Deleted,
    /// in one transaction. PostgreSQL drops the day's partition when that is cheaper, moving the rows
    /// that are not in any batch (kept, restored) to the default partition first. SQLite deletes in
    /// transactions of <see cref="SweepChunking.Events"/> rows, calling <see cref="SweepChunking.AfterChunk"/>
    /// between them; its last transaction marks the batch (a batch stopped halfway stays Verified and its
    /// remaining rows are deleted by the next run).
    /// </summary>
    Task DeleteArchivedEventsAsync(DateOnly day, IReadOnlyList<VerifiedBatch> batches, DateTimeOffset now, SweepChunking chunking, CancellationToken cancellationToken);

    /// <summary>Inserts archived events back into hot storage marked restored; ids already present are skipped. Issue counters are not touched.</summary>
    Task<int> RestoreEventsAsync(IReadOnlyList<ArchivedEvent> events, DateTimeOffset restoredAt, CancellationToken cancellationToken);

    /// <summary>Removes restored events restored before the given time (their archive objects stay).</summary>
    Task<int> DeleteRestoredEventsAsync(DateTimeOffset restoredBefore, CancellationToken cancellationToken);
}

/// <summary>Which events "keep unreviewed" holds back: those of issues neither reviewed nor resolved that are marked keep-until-reviewed or, when enabled, at or above the level.</summary>
public sealed record KeepRule(bool KeepUnreviewed, EventLevel MinimumLevel)
{
    public static KeepRule Of(RetentionPolicy policy) => new(policy.KeepUnreviewed, policy.KeepMinimumLevel);
}

/// <summary>How a store splits long deletes: rows per transaction, and what to do between transactions (the sweep pauses there).</summary>
public sealed record SweepChunking(int Events, Func<ArchiveBatch, CancellationToken, ValueTask> AfterChunk)
{
    public static readonly SweepChunking None = new(int.MaxValue, (_, _) => ValueTask.CompletedTask);
}

public sealed record IssueKeepState(long IssueId, long ProjectId, EventLevel Level, IssueStatus Status, bool Reviewed, bool KeepUntilReviewed)
{
    /// <summary>Whether the sweep leaves this issue's events hot under the rule, and why ("keep_until_reviewed", "unreviewed_level"), else null.</summary>
    public string? KeptBy(KeepRule keep) =>
        Reviewed || Status == IssueStatus.Resolved ? null
        : KeepUntilReviewed ? "keep_until_reviewed"
        : keep.KeepUnreviewed && Level >= keep.MinimumLevel ? "unreviewed_level"
        : null;
}

/// <summary>An issue the sweep keeps hot, with the number (and oldest) of its events past hot retention.</summary>
public sealed record KeptIssue(IssueKeepState State, string Title, long HeldEvents, DateTimeOffset? OldestHeld);

public enum ArchiveBatchState
{
    Planned = 0,
    Written = 1,
    Verified = 2,
    Deleted = 3,
    Expired = 4,
}

/// <summary>One archive object: a project's events of one day (a later batch of the same day gets the next sequence number).</summary>
public sealed record ArchiveBatch(
    long Id,
    long ProjectId,
    DateOnly Day,
    int Sequence,
    ArchiveBatchState State,
    string ObjectKey,
    string ManifestKey,
    ArchiveObjectInfo? Info,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>What was written: event count, uncompressed and stored sizes, SHA-256 (hex) of the stored bytes.</summary>
public sealed record ArchiveObjectInfo(long Events, long UncompressedBytes, long Bytes, string Sha256);

/// <summary>A batch read back and checked, with the keys of the events it holds.</summary>
public sealed record VerifiedBatch(ArchiveBatch Batch, IReadOnlyList<ArchivedEventKey> Events);

public readonly record struct ArchivedEventKey(Guid EventId, DateTimeOffset Timestamp);

/// <summary>An event row as archived: every column, tags and payload as JSON text.</summary>
public sealed record ArchivedEvent(
    Guid EventId,
    long ProjectId,
    long IssueId,
    DateTimeOffset ReceivedAt,
    DateTimeOffset Timestamp,
    EventLevel Level,
    string? Environment,
    string? Release,
    string? Logger,
    string? Message,
    string? ExceptionType,
    string? ExceptionValue,
    string Tags,
    string Payload);

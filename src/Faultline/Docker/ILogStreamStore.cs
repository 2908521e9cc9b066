namespace Faultline.Docker;

/// <summary>
/// A container (or other sender) whose log lines a project received: what it is, how much it sent,
/// and whether its logs are held until someone reviews them.
/// </summary>
public sealed record LogStreamRecord(
    long Id,
    long ProjectId,
    string Name,
    string? ContainerId,
    string? Image,
    string? Host,
    string? Source,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long Events,
    long Errors,
    bool Critical,
    bool AwaitingReview,
    DateTimeOffset? ReviewedAt,
    int KeptIssues);

/// <summary>What one flush of <see cref="LogStreamTracker"/> adds to a stream.</summary>
public sealed record LogStreamActivity(
    long ProjectId,
    string Name,
    string? ContainerId,
    string? Image,
    string? Host,
    string? Source,
    DateTimeOffset LastSeen,
    long Events,
    long Errors,
    bool Kept,
    IReadOnlyCollection<long> IssueIds);

/// <summary>Log streams per project (schema version 40): counts, the critical flag, reviews.</summary>
public interface ILogStreamStore
{
    /// <summary>Adds counts, the latest container details and the issues the events went to; creates streams first seen.</summary>
    Task RecordStreamActivityAsync(IReadOnlyList<LogStreamActivity> activity, CancellationToken cancellationToken);

    Task<IReadOnlyList<LogStreamRecord>> ListStreamsAsync(long projectId, bool? critical, int limit, CancellationToken cancellationToken);

    /// <summary>The stream when it belongs to the project, else null.</summary>
    Task<LogStreamRecord?> GetStreamAsync(long projectId, long streamId, CancellationToken cancellationToken);

    Task<LogStreamRecord?> SetStreamCriticalAsync(long projectId, long streamId, bool critical, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the stream's kept logs reviewed: its issues stop being kept-until-reviewed (unless another
    /// stream awaiting review holds them too). Returns the issues released, or null when there is no such stream.
    /// </summary>
    Task<IReadOnlyList<long>?> ReviewStreamAsync(long projectId, long streamId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>(project, name) of every stream marked critical through the API.</summary>
    Task<IReadOnlyList<(long ProjectId, string Name)>> ListCriticalStreamsAsync(CancellationToken cancellationToken);
}

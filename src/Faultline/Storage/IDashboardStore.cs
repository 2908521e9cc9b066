namespace Faultline.Storage;

/// <summary>Reads the dashboard needs beyond the query API; callers check the user's access to the project or issue first.</summary>
public interface IDashboardStore
{
    /// <summary>True once any user exists: the first-run setup page is closed from then on.</summary>
    Task<bool> AnyUserAsync(CancellationToken cancellationToken);

    /// <summary>The user's session version (bumped by a password change), or null when the user no longer exists.</summary>
    Task<int?> GetSessionVersionAsync(long userId, CancellationToken cancellationToken);

    /// <summary>
    /// Event counts per hour for each of the issues, in one query: <paramref name="hours"/> buckets
    /// starting at <paramref name="since"/>. Issues without events in the range get all zeros.
    /// </summary>
    Task<IReadOnlyDictionary<long, long[]>> GetHourlyIssueCountsAsync(long projectId, IReadOnlyCollection<long> issueIds, DateTimeOffset since, int hours, CancellationToken cancellationToken);

    /// <summary>The issue's event counts per hour: <paramref name="hours"/> buckets starting at <paramref name="since"/> (whole hours).</summary>
    Task<long[]> GetIssueHourlyCountsAsync(long issueId, DateTimeOffset since, int hours, CancellationToken cancellationToken);

    /// <summary>How the tag values spread over the issue's latest <paramref name="sampleEvents"/> events, most frequent first.</summary>
    Task<IReadOnlyList<TagDistribution>> GetTagDistributionAsync(long issueId, int sampleEvents, CancellationToken cancellationToken);

    /// <summary>The newer and the older event next to this one in the issue (newest first order), for previous/next links.</summary>
    Task<(Guid? Newer, Guid? Older)> GetAdjacentEventsAsync(long issueId, DateTimeOffset timestamp, Guid eventId, CancellationToken cancellationToken);
}

public sealed record TagDistribution(string Key, long Total, IReadOnlyList<TagValueCount> Values);

public sealed record TagValueCount(string Value, long Count);

namespace Faultline.Storage;

/// <summary>
/// Events per issue and UTC hour of the event's timestamp (table issue_hours), added with every stored
/// batch so the issue list's sparklines and the issue page's charts read a few rows per issue instead of
/// counting its events. Like an issue's times_seen they count what arrived: archiving, deleting and
/// restoring events leave them alone.
/// </summary>
public readonly record struct IssueHour(long IssueId, DateTimeOffset Hour, long Events)
{
    /// <summary>How long hourly counts are kept (the longest chart shows 30 days).</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(90);

    public static DateTimeOffset HourOf(DateTimeOffset timestamp)
    {
        var utc = timestamp.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The batch's counts, ordered by issue and hour (the order rows are locked in, as the issue rows are).</summary>
    public static List<IssueHour> Of(IEnumerable<(long IssueId, DateTimeOffset Timestamp)> events) =>
        events.GroupBy(e => (e.IssueId, Hour: HourOf(e.Timestamp)))
            .Select(g => new IssueHour(g.Key.IssueId, g.Key.Hour, g.Count()))
            .OrderBy(h => h.IssueId).ThenBy(h => h.Hour)
            .ToList();

    /// <summary>Adds an hour row to a series of hourly buckets that starts at <paramref name="since"/> (an hour boundary).</summary>
    public static void AddTo(long[] series, DateTimeOffset since, DateTimeOffset hour, long events)
    {
        var bucket = (long)Math.Floor((hour - since).TotalHours);
        if (bucket >= 0 && bucket < series.Length)
        {
            series[bucket] += events;
        }
    }
}

using System.Globalization;

namespace Faultline.Storage;

public abstract partial class SqlStoreBase
{
    /// <summary>Table function giving (key, value) rows of a tags object.</summary>
    protected abstract string TagPairsFunction { get; }

    public async Task<bool> AnyUserAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT 1 FROM users LIMIT 1");
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<int?> GetSessionVersionAsync(long userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT session_version FROM users WHERE id = @id").With("@id", userId);
        return await command.ExecuteScalarAsync(cancellationToken) is { } version and not DBNull
            ? Convert.ToInt32(version, CultureInfo.InvariantCulture)
            : null;
    }

    public async Task<IReadOnlyDictionary<long, long[]>> GetHourlyIssueCountsAsync(
        long projectId, IReadOnlyCollection<long> issueIds, DateTimeOffset since, int hours, CancellationToken cancellationToken)
    {
        var counts = issueIds.Distinct().ToDictionary(id => id, _ => new long[hours]);
        if (counts.Count == 0)
        {
            return counts;
        }
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(string.Empty)
            .With("@since", Db(since)).With("@until", Db(since.AddHours(hours)));
        var names = new List<string>();
        foreach (var (id, index) in counts.Keys.Select((id, index) => (id, index)))
        {
            names.Add("@i" + index.ToString(CultureInfo.InvariantCulture));
            command.With(names[^1], id);
        }
        // The ids are issues of projectId (the caller listed them); issue_hours has at most one row per issue and hour.
        _ = projectId;
        command.CommandText = $"""
            SELECT h.issue_id, h.hour, h.events FROM issue_hours h
            WHERE h.issue_id IN ({string.Join(", ", names)}) AND h.hour >= @since AND h.hour < @until
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (counts.TryGetValue(reader.GetInt64(0), out var series))
            {
                IssueHour.AddTo(series, since, ReadTime(reader, 1), reader.GetInt64(2));
            }
        }
        return counts;
    }

    public async Task<long[]> GetIssueHourlyCountsAsync(long issueId, DateTimeOffset since, int hours, CancellationToken cancellationToken)
    {
        var counts = new long[hours];
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // At most one row per hour (720 for the issue page's 30 days), however many events the issue has.
        await using var command = connection.Command("""
            SELECT h.hour, h.events FROM issue_hours h
            WHERE h.issue_id = @i AND h.hour >= @since AND h.hour < @until
            """).With("@i", issueId).With("@since", Db(since)).With("@until", Db(since.AddHours(hours)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            IssueHour.AddTo(counts, since, ReadTime(reader, 0), reader.GetInt64(1));
        }
        return counts;
    }

    private long _issueHoursPrunedDay = -1;

    /// <summary>
    /// Drops hourly counts older than <see cref="IssueHour.KeptFor"/> once per UTC day (the maintenance
    /// timer calls every hour): the charts read 30 days at most, and the table would otherwise only grow.
    /// </summary>
    protected async Task PruneIssueHoursAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var day = now.UtcDateTime.Date.Ticks / TimeSpan.TicksPerDay;
        if (Interlocked.Exchange(ref _issueHoursPrunedDay, day) == day)
        {
            return;
        }
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("DELETE FROM issue_hours WHERE hour < @cutoff").With("@cutoff", Db(IssueHour.HourOf(now - IssueHour.KeptFor)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<TagDistribution>> GetTagDistributionAsync(long issueId, int sampleEvents, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"""
            SELECT t.key, t.value, count(*) FROM
              (SELECT e.tags FROM events e WHERE e.issue_id = @i ORDER BY e.timestamp DESC LIMIT @n) x,
              {TagPairsFunction}(x.tags) t
            GROUP BY t.key, t.value
            """).With("@i", issueId).With("@n", sampleEvents);
        var byKey = new Dictionary<string, List<TagValueCount>>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = reader.GetString(0);
                var value = reader.IsDBNull(1) ? "" : Convert.ToString(reader.GetValue(1), CultureInfo.InvariantCulture) ?? "";
                if (!byKey.TryGetValue(key, out var values))
                {
                    byKey[key] = values = [];
                }
                values.Add(new TagValueCount(value, reader.GetInt64(2)));
            }
        }
        return byKey
            .Select(pair => new TagDistribution(pair.Key, pair.Value.Sum(v => v.Count),
                pair.Value.OrderByDescending(v => v.Count).ThenBy(v => v.Value, StringComparer.Ordinal).ToList()))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<(Guid? Newer, Guid? Older)> GetAdjacentEventsAsync(long issueId, DateTimeOffset timestamp, Guid eventId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        async Task<Guid?> OneAsync(string condition, string order)
        {
            await using var command = connection.Command($"""
                SELECT e.event_id FROM events e WHERE e.issue_id = @i AND {condition}
                ORDER BY e.timestamp {order}, e.event_id {order} LIMIT 1
                """).With("@i", issueId).With("@t", Db(timestamp)).With("@e", DbEventId(eventId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadEventId(reader, 0) : null;
        }
        var newer = await OneAsync("(e.timestamp, e.event_id) > (@t, @e)", "ASC");
        var older = await OneAsync("(e.timestamp, e.event_id) < (@t, @e)", "DESC");
        return (newer, older);
    }
}

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
            .With("@since", Db(since)).With("@until", Db(since.AddHours(hours))).With("@interval", DbInterval(TimeSpan.FromHours(1)));
        var names = new List<string>();
        foreach (var (id, index) in counts.Keys.Select((id, index) => (id, index)))
        {
            names.Add("@i" + index.ToString(CultureInfo.InvariantCulture));
            command.With(names[^1], id);
        }
        // The ids are issues of projectId (the caller listed them). Only issue_id and timestamp are read, so
        // ix_events_issue_time (issue_id, timestamp) answers each issue's range alone (index-only on PostgreSQL).
        _ = projectId;
        command.CommandText = $"""
            SELECT e.issue_id, {BucketExpression} AS bucket, count(*) FROM events e
            WHERE e.issue_id IN ({string.Join(", ", names)}) AND e.timestamp >= @since AND e.timestamp < @until
            GROUP BY e.issue_id, bucket
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bucket = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            if (counts.TryGetValue(reader.GetInt64(0), out var series) && bucket >= 0 && bucket < hours)
            {
                series[bucket] += reader.GetInt64(2);
            }
        }
        return counts;
    }

    public async Task<long[]> GetIssueHourlyCountsAsync(long issueId, DateTimeOffset since, int hours, CancellationToken cancellationToken)
    {
        var counts = new long[hours];
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // Reads only ix_events_issue_time (issue_id, timestamp): one range scan for both of the issue page's charts.
        await using var command = connection.Command($"""
            SELECT {BucketExpression} AS bucket, count(*) FROM events e
            WHERE e.issue_id = @i AND e.timestamp >= @since AND e.timestamp < @until
            GROUP BY bucket
            """).With("@i", issueId).With("@since", Db(since)).With("@until", Db(since.AddHours(hours))).With("@interval", DbInterval(TimeSpan.FromHours(1)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bucket = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            if (bucket >= 0 && bucket < hours)
            {
                counts[bucket] += reader.GetInt64(1);
            }
        }
        return counts;
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

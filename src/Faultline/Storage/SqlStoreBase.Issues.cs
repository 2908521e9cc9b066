using System.Data.Common;
using System.Globalization;
using Faultline.Events;
using Faultline.Search;

namespace Faultline.Storage;

public abstract partial class SqlStoreBase
{
    private const string IssueColumns =
        "i.id, i.project_id, i.fingerprint, i.title, i.culprit, i.level, i.status, i.regressed, i.reviewed, i.times_seen, i.first_seen, i.last_seen, i.resolved_at";

    private const string EventColumns =
        "e.event_id, e.project_id, e.issue_id, e.received_at, e.timestamp, e.level, e.message, e.exception_type, e.exception_value, e.environment, e.release, e.logger, e.payload";

    protected abstract ISearchDialect SearchDialect { get; }

    protected abstract object DbEventId(Guid eventId);

    protected abstract Guid ReadEventId(DbDataReader reader, int ordinal);

    /// <summary>An event's payload JSON (SQLite stores it compressed).</summary>
    protected virtual string ReadPayload(DbDataReader reader, int ordinal) => reader.GetString(ordinal);

    /// <summary>SQL giving the 0-based bucket number of <c>e.timestamp</c>, from parameters @since and @interval.</summary>
    protected abstract string BucketExpression { get; }

    protected abstract object DbInterval(TimeSpan interval);

    /// <summary>The FROM clause (aliasing events as e) that finds an event by id through an index.</summary>
    protected virtual string EventByIdSource => "events e";

    protected virtual string EventByIdColumn => "e.event_id";

    public async Task<Page<IssueRecord>> ListIssuesAsync(long projectId, IssueListRequest request, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter(SearchDialect);
        var project = filter.Parameter(projectId);
        filter.Add($"i.project_id = {project}");
        filter.AddIssueConditions(request.Query, "i", project);
        var column = request.Sort switch
        {
            IssueSort.FirstSeen => "i.first_seen",
            IssueSort.Count => "i.times_seen",
            _ => "i.last_seen",
        };
        var before = false;
        if (request.Cursor is not null)
        {
            if (!PageCursor.TryDecode(request.Cursor, out var cursor) || !long.TryParse(cursor.Id, CultureInfo.InvariantCulture, out var cursorId))
            {
                throw new InvalidCursorException();
            }
            before = cursor.Before;
            object sortValue = request.Sort == IssueSort.Count ? cursor.SortValue : Db(FromMicroseconds(cursor.SortValue));
            filter.Add($"({column}, i.id) {(before ? ">" : "<")} ({filter.Parameter(sortValue)}, {filter.Parameter(cursorId)})");
        }
        // A page before the cursor is read in ascending order (the same index, backwards) and turned around.
        var direction = before ? "ASC" : "DESC";
        var limit = filter.Parameter(request.Limit + 1);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {IssueColumns} FROM issues i WHERE {filter.Where} ORDER BY {column} {direction}, i.id {direction} LIMIT {limit}");
        filter.ApplyTo(command);
        var issues = await ReadIssuesAsync(command, cancellationToken);
        var more = issues.Count > request.Limit;
        if (more)
        {
            issues.RemoveAt(issues.Count - 1);
        }
        if (before)
        {
            if (!more)
            {
                // Back at the start (possibly with rows that moved meanwhile): show the full first page.
                return await ListIssuesAsync(projectId, request with { Cursor = null }, cancellationToken);
            }
            issues.Reverse();
        }
        string? CursorAt(IssueRecord issue, bool toPrevious) => new PageCursor(request.Sort switch
        {
            IssueSort.FirstSeen => Microseconds(issue.FirstSeen),
            IssueSort.Count => issue.TimesSeen,
            _ => Microseconds(issue.LastSeen),
        }, issue.Id.ToString(CultureInfo.InvariantCulture), toPrevious).Encode();
        // Going forwards there are rows after the page when one more was read; going backwards there are
        // always rows after it (the page the cursor came from). Rows before it: any cursor came from later pages.
        var next = issues.Count > 0 && (more || before) ? CursorAt(issues[^1], false) : null;
        var previous = issues.Count > 0 && request.Cursor is not null ? CursorAt(issues[0], true) : null;
        return new Page<IssueRecord>(issues, next, previous);
    }

    public async Task<IssueRecord?> GetIssueForUserAsync(long userId, long issueId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"""
            SELECT {IssueColumns} FROM issues i
            JOIN projects p ON p.id = i.project_id
            JOIN memberships m ON m.organization_id = p.organization_id
            WHERE i.id = @id AND m.user_id = @u
            """).With("@id", issueId).With("@u", userId);
        var issues = await ReadIssuesAsync(command, cancellationToken);
        return issues.Count == 0 ? null : issues[0];
    }

    public async Task<IssueRecord?> UpdateIssueAsync(long issueId, IssueUpdate update, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var assignments = new List<string>();
        await using var command = connection.Command(string.Empty).With("@id", issueId);
        if (update.Status is { } status)
        {
            assignments.Add("status = @status");
            assignments.Add("resolved_at = @resolved_at");
            command.With("@status", (int)status).With("@resolved_at", status == IssueStatus.Resolved ? Db(now) : null);
            if (status != IssueStatus.Resolved)
            {
                // Reopening or ignoring ends the regression: a person has looked at it.
                assignments.Add("regressed = @not_regressed");
                command.With("@not_regressed", false);
            }
        }
        if (update.Reviewed is { } reviewed)
        {
            assignments.Add("reviewed = @reviewed");
            command.With("@reviewed", reviewed);
        }
        if (assignments.Count > 0)
        {
            command.CommandText = $"UPDATE issues SET {string.Join(", ", assignments)} WHERE id = @id";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var select = connection.Command($"SELECT {IssueColumns} FROM issues i WHERE i.id = @id").With("@id", issueId);
        var issues = await ReadIssuesAsync(select, cancellationToken);
        return issues.Count == 0 ? null : issues[0];
    }

    public async Task<Page<EventRecord>> ListEventsAsync(long projectId, EventListRequest request, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter(SearchDialect);
        filter.Add($"e.project_id = {filter.Parameter(projectId)}");
        if (request.IssueId is { } issueId)
        {
            filter.Add($"e.issue_id = {filter.Parameter(issueId)}");
        }
        filter.AddEventConditions(request.Query, "e");
        if (request.Cursor is not null)
        {
            if (!PageCursor.TryDecode(request.Cursor, out var cursor) || cursor.Before || !Guid.TryParseExact(cursor.Id, "N", out var cursorEvent))
            {
                throw new InvalidCursorException();
            }
            filter.Add($"(e.timestamp, e.event_id) < ({filter.Parameter(Db(FromMicroseconds(cursor.SortValue)))}, {filter.Parameter(DbEventId(cursorEvent))})");
        }
        var limit = filter.Parameter(request.Limit + 1);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {EventColumns} FROM events e WHERE {filter.Where} ORDER BY e.timestamp DESC, e.event_id DESC LIMIT {limit}");
        filter.ApplyTo(command);
        var events = await ReadEventsAsync(command, cancellationToken);
        string? next = null;
        if (events.Count > request.Limit)
        {
            events.RemoveAt(events.Count - 1);
            next = new PageCursor(Microseconds(events[^1].Timestamp), events[^1].EventId.ToString("N")).Encode();
        }
        return new Page<EventRecord>(events, next);
    }

    public async Task<EventRecord?> GetEventForUserAsync(long userId, Guid eventId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"""
            SELECT {EventColumns} FROM {EventByIdSource}
            JOIN projects p ON p.id = e.project_id
            JOIN memberships m ON m.organization_id = p.organization_id
            WHERE {EventByIdColumn} = @e AND m.user_id = @u
            ORDER BY e.received_at DESC LIMIT 1
            """).With("@e", DbEventId(eventId)).With("@u", userId);
        var events = await ReadEventsAsync(command, cancellationToken);
        return events.Count == 0 ? null : events[0];
    }

    public async Task<IReadOnlyList<StatsBucket>> GetEventStatsAsync(long projectId, SearchQuery query, DateTimeOffset since, DateTimeOffset until, TimeSpan interval, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter(SearchDialect);
        filter.Add($"e.project_id = {filter.Parameter(projectId)}");
        filter.AddEventConditions(query with { Since = null, Until = null }, "e");
        filter.Add($"e.timestamp >= {filter.Parameter(Db(since))} AND e.timestamp < {filter.Parameter(Db(until))}");
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {BucketExpression} AS bucket, count(*) FROM events e WHERE {filter.Where} GROUP BY bucket")
            .With("@since", Db(since)).With("@interval", DbInterval(interval));
        filter.ApplyTo(command);
        var bucketCount = (int)Math.Ceiling((until - since) / interval);
        var counts = new long[bucketCount];
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var bucket = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
                if (bucket >= 0 && bucket < bucketCount)
                {
                    counts[bucket] += reader.GetInt64(1);
                }
            }
        }
        return counts.Select((count, index) => new StatsBucket(since + (interval * index), count)).ToList();
    }

    private async Task<List<IssueRecord>> ReadIssuesAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var issues = new List<IssueRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            issues.Add(new IssueRecord(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.NullableString(4),
                (EventLevel)reader.GetInt32(5), (IssueStatus)reader.GetInt32(6), reader.GetBoolean(7), reader.GetBoolean(8),
                reader.GetInt64(9), ReadTime(reader, 10), ReadTime(reader, 11), ReadNullableTime(reader, 12)));
        }
        return issues;
    }

    private async Task<List<EventRecord>> ReadEventsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var events = new List<EventRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new EventRecord(
                ReadEventId(reader, 0), reader.GetInt64(1), reader.GetInt64(2), ReadTime(reader, 3), ReadTime(reader, 4),
                (EventLevel)reader.GetInt32(5), reader.NullableString(6), reader.NullableString(7), reader.NullableString(8),
                reader.NullableString(9), reader.NullableString(10), reader.NullableString(11), ReadPayload(reader, 12)));
        }
        return events;
    }

    protected static long Microseconds(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    protected static DateTimeOffset FromMicroseconds(long value) => DateTimeOffset.UnixEpoch.AddTicks(value * 10);
}

using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Faultline.Storage.Postgres;

public sealed partial class PostgresStore
{
    public async Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteOnceAsync(events, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another node stored one of these event ids between our check and our COPY.
            // The retry's check sees it and skips it.
            return await WriteOnceAsync(events, cancellationToken);
        }
    }

    private async Task<BatchWriteResult> WriteOnceAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await SkipStoredAsync(connection, transaction, events, cancellationToken);
        var issues = await UpsertIssuesAsync(connection, transaction, fresh, cancellationToken);
        await CopyEventsAsync(connection, fresh, issues, cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        var stored = fresh.Select(e => new StoredEvent(e, issues[(e.ProjectId, e.Fingerprint)].IssueId)).ToList();
        return new BatchWriteResult(stored, issues.Values.ToList());
    }

    private static async Task<List<PreparedEvent>> SkipStoredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        var unique = new List<PreparedEvent>(events.Count);
        var seen = new HashSet<(long, Guid)>();
        foreach (var e in events)
        {
            if (seen.Add((e.ProjectId, e.Event.EventId)))
            {
                unique.Add(e);
            }
        }
        await using var command = new NpgsqlCommand("""
            SELECT d.project_id, d.event_id FROM event_ids d
            JOIN unnest(@projects, @ids) AS b(project_id, event_id) USING (project_id, event_id)
            """, connection, transaction);
        command.Parameters.AddWithValue("projects", unique.Select(e => e.ProjectId).ToArray());
        command.Parameters.AddWithValue("ids", unique.Select(e => e.Event.EventId).ToArray());
        var stored = new HashSet<(long, Guid)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                stored.Add((reader.GetInt64(0), reader.GetGuid(1)));
            }
        }
        return stored.Count == 0 ? unique : unique.Where(e => !stored.Contains((e.ProjectId, e.Event.EventId))).ToList();
    }

    private static async Task<Dictionary<(long, string), IssueChange>> UpsertIssuesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<PreparedEvent> events, CancellationToken cancellationToken)
    {
        // Sorted by key so that concurrent batches on several nodes lock issue rows in the same order.
        var groups = events.GroupBy(e => (e.ProjectId, e.Fingerprint))
            .Select(g => (Key: g.Key, Latest: g.MaxBy(e => e.Event.Timestamp)!, First: g.Min(e => e.Event.Timestamp), Count: g.Count()))
            .OrderBy(g => g.Key.ProjectId).ThenBy(g => g.Key.Fingerprint, StringComparer.Ordinal)
            .ToList();
        var changes = new Dictionary<(long, string), IssueChange>();
        if (groups.Count == 0)
        {
            return changes;
        }
        // A unique marker for this batch tells which rows this statement turned from resolved into regressed.
        var batchTime = DateTimeOffset.UtcNow;
        await using var command = new NpgsqlCommand("""
            INSERT INTO issues AS i (project_id, fingerprint, title, culprit, level, status, times_seen, first_seen, last_seen)
            SELECT b.project_id, b.fingerprint, b.title, b.culprit, b.level, 0, b.times_seen, b.first_seen, b.last_seen
            FROM unnest(@projects, @fingerprints, @titles, @culprits, @levels, @counts, @firsts, @lasts)
                 WITH ORDINALITY AS b(project_id, fingerprint, title, culprit, level, times_seen, first_seen, last_seen, n)
            ORDER BY b.n
            ON CONFLICT (project_id, fingerprint) DO UPDATE SET
                times_seen = i.times_seen + excluded.times_seen,
                first_seen = least(i.first_seen, excluded.first_seen),
                last_seen = greatest(i.last_seen, excluded.last_seen),
                level = excluded.level, title = excluded.title, culprit = excluded.culprit,
                regressed = i.regressed OR i.status = 1,
                regressed_at = CASE WHEN i.status = 1 THEN @batch ELSE i.regressed_at END,
                reviewed = CASE WHEN i.status = 1 THEN false ELSE i.reviewed END,
                resolved_at = CASE WHEN i.status = 1 THEN NULL ELSE i.resolved_at END,
                status = CASE WHEN i.status = 1 THEN 0 ELSE i.status END
            RETURNING i.id, i.project_id, i.fingerprint, (xmax = 0) AS created, coalesce(i.regressed_at = @batch, false) AS regressed
            """, connection, transaction);
        command.Parameters.AddWithValue("projects", groups.Select(g => g.Key.ProjectId).ToArray());
        command.Parameters.AddWithValue("fingerprints", groups.Select(g => g.Key.Fingerprint).ToArray());
        command.Parameters.AddWithValue("titles", groups.Select(g => g.Latest.Title).ToArray());
        command.Parameters.Add(new NpgsqlParameter("culprits", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = groups.Select(g => (object?)g.Latest.Culprit ?? DBNull.Value).ToArray() });
        command.Parameters.AddWithValue("levels", groups.Select(g => (short)g.Latest.Event.Level).ToArray());
        command.Parameters.AddWithValue("counts", groups.Select(g => (long)g.Count).ToArray());
        command.Parameters.AddWithValue("firsts", groups.Select(g => g.First.ToUniversalTime()).ToArray());
        command.Parameters.AddWithValue("lasts", groups.Select(g => g.Latest.Event.Timestamp.ToUniversalTime()).ToArray());
        command.Parameters.AddWithValue("batch", batchTime);
        var counts = groups.ToDictionary(g => g.Key, g => g.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = (reader.GetInt64(1), reader.GetString(2));
            changes[key] = new IssueChange(reader.GetInt64(0), key.Item1, key.Item2, reader.GetBoolean(3), reader.GetBoolean(4), counts[key]);
        }
        return changes;
    }

    private static async Task CopyEventsAsync(NpgsqlConnection connection, List<PreparedEvent> events, Dictionary<(long, string), IssueChange> issues, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }
        await using (var ids = await connection.BeginBinaryImportAsync(
            "COPY event_ids (event_id, project_id, received_at, timestamp) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var e in events)
            {
                await ids.StartRowAsync(cancellationToken);
                await ids.WriteAsync(e.Event.EventId, NpgsqlDbType.Uuid, cancellationToken);
                await ids.WriteAsync(e.ProjectId, NpgsqlDbType.Bigint, cancellationToken);
                await ids.WriteAsync(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
                await ids.WriteAsync(e.Event.Timestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            }
            await ids.CompleteAsync(cancellationToken);
        }

        await using var rows = await connection.BeginBinaryImportAsync("""
            COPY events (project_id, event_id, issue_id, received_at, timestamp, level, environment, release, logger,
                         message, exception_type, exception_value, tags, payload) FROM STDIN (FORMAT BINARY)
            """, cancellationToken);
        foreach (var e in events)
        {
            var exception = e.Event.PrimaryException;
            await rows.StartRowAsync(cancellationToken);
            await rows.WriteAsync(e.ProjectId, NpgsqlDbType.Bigint, cancellationToken);
            await rows.WriteAsync(e.Event.EventId, NpgsqlDbType.Uuid, cancellationToken);
            await rows.WriteAsync(issues[(e.ProjectId, e.Fingerprint)].IssueId, NpgsqlDbType.Bigint, cancellationToken);
            await rows.WriteAsync(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            await rows.WriteAsync(e.Event.Timestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            await rows.WriteAsync((short)e.Event.Level, NpgsqlDbType.Smallint, cancellationToken);
            await WriteTextAsync(rows, e.Event.Environment, cancellationToken);
            await WriteTextAsync(rows, e.Event.Release, cancellationToken);
            await WriteTextAsync(rows, e.Event.Logger, cancellationToken);
            await WriteTextAsync(rows, e.Event.Message, cancellationToken);
            await WriteTextAsync(rows, exception?.Type, cancellationToken);
            await WriteTextAsync(rows, exception?.Value, cancellationToken);
            await rows.WriteAsync(JsonSerializer.Serialize(e.Event.Tags), NpgsqlDbType.Jsonb, cancellationToken);
            await rows.WriteAsync(System.Text.Encoding.UTF8.GetString(e.PayloadJson), NpgsqlDbType.Jsonb, cancellationToken);
        }
        await rows.CompleteAsync(cancellationToken);
    }

    private static async Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await importer.WriteNullAsync(cancellationToken);
        }
        else
        {
            await importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }
}

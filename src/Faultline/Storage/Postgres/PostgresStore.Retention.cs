using Faultline.Events;
using Faultline.Retention;
using Npgsql;
using NpgsqlTypes;

namespace Faultline.Storage.Postgres;

public sealed partial class PostgresStore : IRetentionStore
{
    /// <summary>
    /// With the day's partition present and at least as many rows archived as left behind, the
    /// partition is detached and dropped (no dead rows, no vacuum) after the rows in no batch (kept
    /// or restored) are copied out and re-inserted, which routes them to events_default. Otherwise the
    /// archived rows are deleted one by one through the (project, timestamp, event id) index. One
    /// transaction either way: set-based statements that lock only the archived rows (and the parent
    /// table for the moment of the detach), so ingest is not held up and chunking would only add work.
    /// </summary>
    public async Task DeleteArchivedEventsAsync(DateOnly day, IReadOnlyList<VerifiedBatch> batches, DateTimeOffset now, SweepChunking chunking, CancellationToken cancellationToken)
    {
        var (from, to) = DayBounds(day);
        var partition = PartitionName(day.ToDateTime(TimeOnly.MinValue));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var temp = new NpgsqlCommand(
            "CREATE TEMP TABLE archived (project_id bigint NOT NULL, event_id uuid NOT NULL, timestamp timestamptz NOT NULL) ON COMMIT DROP", connection, transaction))
        {
            await temp.ExecuteNonQueryAsync(cancellationToken);
        }
        long archivedCount = 0;
        await using (var copy = await connection.BeginBinaryImportAsync("COPY archived (project_id, event_id, timestamp) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var batch in batches)
            {
                foreach (var key in batch.Events)
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(batch.Batch.ProjectId, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(key.EventId, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(key.Timestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
                    archivedCount++;
                }
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await using (var analyze = new NpgsqlCommand("ANALYZE archived", connection, transaction))
        {
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }

        long? partitionRows = null;
        await using (var exists = new NpgsqlCommand("SELECT to_regclass(@n) IS NOT NULL", connection, transaction))
        {
            exists.Parameters.AddWithValue("n", partition);
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                await using var count = new NpgsqlCommand($"SELECT count(*) FROM {partition}", connection, transaction);
                partitionRows = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }
        }

        if (partitionRows is { } rows && rows - archivedCount <= archivedCount)
        {
            // The partition name is formatted from a date by PartitionName, never from input.
            await ExecuteAsync(connection, transaction, cancellationToken, $"""
                CREATE TEMP TABLE moved ON COMMIT DROP AS
                    SELECT p.* FROM {partition} p
                    WHERE NOT EXISTS (SELECT 1 FROM archived a WHERE a.project_id = p.project_id AND a.event_id = p.event_id)
                """);
            await ExecuteAsync(connection, transaction, cancellationToken,
                "DELETE FROM event_ids d USING archived a WHERE d.project_id = a.project_id AND d.event_id = a.event_id");
            await ExecuteAsync(connection, transaction, cancellationToken, $"ALTER TABLE events DETACH PARTITION {partition}");
            await ExecuteAsync(connection, transaction, cancellationToken, $"DROP TABLE {partition}");
            await ExecuteAsync(connection, transaction, cancellationToken, "INSERT INTO events SELECT * FROM moved");
        }
        else
        {
            await using var delete = new NpgsqlCommand("""
                WITH gone AS (
                    DELETE FROM events e USING archived a
                    WHERE e.project_id = a.project_id AND e.timestamp = a.timestamp AND e.event_id = a.event_id
                      AND e.received_at >= @from AND e.received_at < @to AND e.restored_at IS NULL
                    RETURNING e.project_id, e.event_id)
                DELETE FROM event_ids d USING gone g WHERE d.project_id = g.project_id AND d.event_id = g.event_id
                """, connection, transaction);
            delete.Parameters.AddWithValue("from", from.ToUniversalTime());
            delete.Parameters.AddWithValue("to", to.ToUniversalTime());
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await MarkBatchesDeletedAsync(connection, transaction, batches, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> RestoreEventsAsync(IReadOnlyList<ArchivedEvent> events, DateTimeOffset restoredAt, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return 0;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // event_ids decides which events are absent, exactly as for ingest.
        var unique = new Dictionary<(Guid, long), ArchivedEvent>();
        foreach (var e in events)
        {
            unique.TryAdd((e.EventId, e.ProjectId), e);
        }
        var batch = unique.Values.ToList();
        var fresh = new List<ArchivedEvent>(batch.Count);
        await using (var claim = new NpgsqlCommand("""
            INSERT INTO event_ids (event_id, project_id, received_at, timestamp)
            SELECT * FROM unnest(@ids, @projects, @received, @timestamps)
            ON CONFLICT DO NOTHING
            RETURNING event_id, project_id
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("ids", batch.Select(e => e.EventId).ToArray());
            claim.Parameters.AddWithValue("projects", batch.Select(e => e.ProjectId).ToArray());
            claim.Parameters.AddWithValue("received", batch.Select(e => e.ReceivedAt.ToUniversalTime()).ToArray());
            claim.Parameters.AddWithValue("timestamps", batch.Select(e => e.Timestamp.ToUniversalTime()).ToArray());
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                fresh.Add(unique[(reader.GetGuid(0), reader.GetInt64(1))]);
            }
        }
        if (fresh.Count > 0)
        {
            await using var rows = await connection.BeginBinaryImportAsync("""
                COPY events (project_id, event_id, issue_id, received_at, timestamp, level, environment, release, logger,
                             message, exception_type, exception_value, tags, payload, search, restored_at) FROM STDIN (FORMAT BINARY)
                """, cancellationToken);
            foreach (var e in fresh)
            {
                var parsed = EventJson.Deserialize(e.Payload);
                await rows.StartRowAsync(cancellationToken);
                await rows.WriteAsync(e.ProjectId, NpgsqlDbType.Bigint, cancellationToken);
                await rows.WriteAsync(e.EventId, NpgsqlDbType.Uuid, cancellationToken);
                await rows.WriteAsync(e.IssueId, NpgsqlDbType.Bigint, cancellationToken);
                await rows.WriteAsync(e.ReceivedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
                await rows.WriteAsync(e.Timestamp.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
                await rows.WriteAsync((short)e.Level, NpgsqlDbType.Smallint, cancellationToken);
                await WriteTextAsync(rows, e.Environment, cancellationToken);
                await WriteTextAsync(rows, e.Release, cancellationToken);
                await WriteTextAsync(rows, e.Logger, cancellationToken);
                await WriteTextAsync(rows, e.Message, cancellationToken);
                await WriteTextAsync(rows, e.ExceptionType, cancellationToken);
                await WriteTextAsync(rows, e.ExceptionValue, cancellationToken);
                await rows.WriteAsync(e.Tags, NpgsqlDbType.Jsonb, cancellationToken);
                await rows.WriteAsync(e.Payload, NpgsqlDbType.Jsonb, cancellationToken);
                await rows.WriteAsync(parsed is null ? NpgsqlTsVector.Empty : SearchVector.For(parsed), NpgsqlDbType.TsVector, cancellationToken);
                await rows.WriteAsync(restoredAt.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken);
            }
            await rows.CompleteAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return fresh.Count;
    }

    public async Task<int> DeleteRestoredEventsAsync(DateTimeOffset restoredBefore, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var delete = new NpgsqlCommand("""
            WITH gone AS (
                DELETE FROM events WHERE restored_at IS NOT NULL AND restored_at < @c RETURNING project_id, event_id)
            DELETE FROM event_ids d USING gone g WHERE d.project_id = g.project_id AND d.event_id = g.event_id
            """, connection);
        delete.Parameters.AddWithValue("c", restoredBefore.ToUniversalTime());
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}

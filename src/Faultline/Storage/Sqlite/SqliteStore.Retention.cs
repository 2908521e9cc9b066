using Faultline.Retention;
using Microsoft.Data.Sqlite;

namespace Faultline.Storage.Sqlite;

public sealed partial class SqliteStore : IRetentionStore
{
    public async Task DeleteArchivedEventsAsync(DateOnly day, IReadOnlyList<VerifiedBatch> batches, DateTimeOffset now, SweepChunking chunking, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var batch in batches)
        {
            // Transactions of chunking.Events rows, so ingest's writer (SQLite has one) waits for one chunk at most.
            // The last one also marks the batch Deleted; a batch stopped before that stays Verified, and the next run
            // reads its object back and deletes what is left (deleting a row that is gone does nothing).
            var chunks = batch.Events.Chunk(Math.Max(1, chunking.Events)).ToList();
            for (var i = 0; i < Math.Max(1, chunks.Count); i++)
            {
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
                await using var delete = connection.Command("DELETE FROM events WHERE event_id = @e AND project_id = @p AND restored_at IS NULL", transaction)
                    .With("@e", string.Empty).With("@p", batch.Batch.ProjectId);
                foreach (var key in i < chunks.Count ? chunks[i] : [])
                {
                    delete.Parameters[0].Value = key.EventId.ToString("N");
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }
                var last = i >= chunks.Count - 1;
                if (last)
                {
                    await MarkBatchesDeletedAsync(connection, transaction, [batch], now, cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                if (!last)
                {
                    await chunking.AfterChunk(batch.Batch, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// Pages through the day by (received_at, row id), the order of ix_events_received, and calls the sink
    /// only between pages: no read stays open while the sweep pauses, so WAL checkpoints are not held back.
    /// </summary>
    public override async Task ReadSweepableEventsAsync(long projectId, DateOnly day, KeepRule keep, Func<ArchivedEvent, ValueTask> sink, CancellationToken cancellationToken)
    {
        const int PageSize = 1000;
        var (from, to) = DayBounds(day);
        long afterReceived = Us(from), afterRow = 0;
        await using var connection = await OpenAsync(cancellationToken);
        var page = new List<ArchivedEvent>(PageSize);
        do
        {
            page.Clear();
            await using (var command = WithKeep(connection.Command($"""
                SELECT {ArchiveEventColumns}, e.row_id FROM events e INDEXED BY ix_events_received
                WHERE e.received_at >= @after AND e.received_at < @to AND (e.received_at > @after OR e.row_id > @row)
                  AND e.project_id = @p AND {SweepableCondition(keep)}
                ORDER BY e.received_at, e.row_id LIMIT {PageSize}
                """), keep).With("@p", projectId).With("@after", afterReceived).With("@row", afterRow).With("@to", Us(to)))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(ReadArchivedEvent(reader));
                    afterReceived = reader.GetInt64(3);
                    afterRow = reader.GetInt64(14);
                }
            }
            foreach (var e in page)
            {
                await sink(e);
            }
        }
        while (page.Count == PageSize);
    }

    public async Task<int> RestoreEventsAsync(IReadOnlyList<ArchivedEvent> events, DateTimeOffset restoredAt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var lastRow = connection.Command(LastRowIdSql, transaction);
        var lastRowId = Convert.ToInt64(await lastRow.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        await using var insert = connection.Command("""
            INSERT INTO events (project_id, event_id, issue_id, received_at, timestamp, level, environment, release, logger,
                                message, exception_type, exception_value, tags, payload, restored_at)
            VALUES (@p, @e, @i, @r, @t, @l, @env, @rel, @log, @msg, @xt, @xv, @tags, @payload, @restored)
            ON CONFLICT (event_id, project_id) DO NOTHING
            """, transaction);
        var restored = 0;
        foreach (var e in events)
        {
            insert.Parameters.Clear();
            insert.With("@p", e.ProjectId).With("@e", e.EventId.ToString("N")).With("@i", e.IssueId).With("@r", Us(e.ReceivedAt))
                .With("@t", Us(e.Timestamp)).With("@l", (int)e.Level).With("@env", e.Environment).With("@rel", e.Release)
                .With("@log", e.Logger).With("@msg", e.Message).With("@xt", e.ExceptionType).With("@xv", e.ExceptionValue)
                .With("@tags", e.Tags).With("@payload", SqlitePayload.Compress(System.Text.Encoding.UTF8.GetBytes(e.Payload))).With("@restored", Us(restoredAt));
            restored += await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var index = connection.Command(TextIndexInsertSql, transaction).With("@after", lastRowId);
        await index.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return restored;
    }

    public async Task<int> DeleteRestoredEventsAsync(DateTimeOffset restoredBefore, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var delete = connection.Command("DELETE FROM events WHERE restored_at IS NOT NULL AND restored_at < @c").With("@c", Us(restoredBefore));
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}

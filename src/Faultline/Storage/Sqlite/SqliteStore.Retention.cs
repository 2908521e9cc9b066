using Faultline.Retention;
using Microsoft.Data.Sqlite;

namespace Faultline.Storage.Sqlite;

public sealed partial class SqliteStore : IRetentionStore
{
    public async Task DeleteArchivedEventsAsync(DateOnly day, IReadOnlyList<VerifiedBatch> batches, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        foreach (var batch in batches)
        {
            // One transaction per batch: its rows go and its state says so, or neither happens.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var delete = connection.Command("DELETE FROM events WHERE event_id = @e AND project_id = @p", transaction)
                .With("@e", string.Empty).With("@p", batch.Batch.ProjectId);
            foreach (var key in batch.Events)
            {
                delete.Parameters[0].Value = key.EventId.ToString("N");
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            await MarkBatchesDeletedAsync(connection, transaction, [batch], now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }

    public async Task<int> RestoreEventsAsync(IReadOnlyList<ArchivedEvent> events, DateTimeOffset restoredAt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
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
                .With("@tags", e.Tags).With("@payload", e.Payload).With("@restored", Us(restoredAt));
            restored += await insert.ExecuteNonQueryAsync(cancellationToken);
        }
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

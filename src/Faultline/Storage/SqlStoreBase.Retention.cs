using System.Data.Common;
using System.Globalization;
using Faultline.Events;
using Faultline.Retention;

namespace Faultline.Storage;

public abstract partial class SqlStoreBase
{
    private const string BatchColumns =
        "id, project_id, day, sequence, state, object_key, manifest_key, event_count, uncompressed_bytes, bytes, sha256, created_at, updated_at";

    protected const string ArchiveEventColumns =
        "e.event_id, e.project_id, e.issue_id, e.received_at, e.timestamp, e.level, e.environment, e.release, e.logger, e.message, e.exception_type, e.exception_value, e.tags, e.payload";

    public async Task<RetentionPolicy?> GetRetentionPolicyAsync(RetentionScope scope, long scopeId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT hot_days, archive_days, keep_unreviewed, keep_minimum_level FROM retention_policies WHERE scope = @s AND scope_id = @id")
            .With("@s", ScopeName(scope)).With("@id", scopeId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new RetentionPolicy(reader.GetInt32(0), reader.GetInt32(1), reader.GetBoolean(2), (EventLevel)reader.GetInt32(3))
            : null;
    }

    public async Task SetRetentionPolicyAsync(RetentionScope scope, long scopeId, RetentionPolicy? policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = policy is null
            ? connection.Command("DELETE FROM retention_policies WHERE scope = @s AND scope_id = @id")
            : connection.Command("""
                INSERT INTO retention_policies (scope, scope_id, hot_days, archive_days, keep_unreviewed, keep_minimum_level, updated_at)
                VALUES (@s, @id, @hot, @archive, @keep, @level, @t)
                ON CONFLICT (scope, scope_id) DO UPDATE SET hot_days = excluded.hot_days, archive_days = excluded.archive_days,
                    keep_unreviewed = excluded.keep_unreviewed, keep_minimum_level = excluded.keep_minimum_level, updated_at = excluded.updated_at
                """)
                .With("@hot", policy.HotDays).With("@archive", policy.ArchiveDays).With("@keep", policy.KeepUnreviewed)
                .With("@level", (short)policy.KeepMinimumLevel).With("@t", Db(now));
        command.With("@s", ScopeName(scope)).With("@id", scopeId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ScopeName(RetentionScope scope) => scope == RetentionScope.Project ? "project" : "organization";

    public async Task<IReadOnlyList<ProjectRecord>> ListAllProjectsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadProjectsAsync(connection, "ORDER BY p.id", cancellationToken);
    }

    public async Task<bool> IsOrganizationMemberAsync(long userId, long organizationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT 1 FROM memberships WHERE user_id = @u AND organization_id = @o")
            .With("@u", userId).With("@o", organizationId);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<bool> SetKeepUntilReviewedAsync(long issueId, bool keep, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("UPDATE issues SET keep_until_reviewed = @k WHERE id = @id").With("@k", keep).With("@id", issueId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private const string KeepStateColumns = "i.id, i.project_id, i.level, i.status, i.reviewed, i.keep_until_reviewed";

    private static IssueKeepState ReadKeepState(DbDataReader reader) => new(
        reader.GetInt64(0), reader.GetInt64(1), (EventLevel)reader.GetInt32(2), (IssueStatus)reader.GetInt32(3), reader.GetBoolean(4), reader.GetBoolean(5));

    public async Task<IssueKeepState?> GetIssueKeepStateAsync(long issueId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {KeepStateColumns} FROM issues i WHERE i.id = @id").With("@id", issueId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadKeepState(reader) : null;
    }

    public async Task<IReadOnlyList<KeptIssue>> ListKeptIssuesAsync(long projectId, KeepRule keep, DateTimeOffset hotCutoff, long? afterIssueId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // The same condition as SweepableCondition, from the issue's side.
        await using var command = WithKeep(connection.Command($"""
            SELECT {KeepStateColumns}, i.title,
                (SELECT count(*) FROM events e WHERE e.issue_id = i.id AND e.received_at < @cutoff AND e.restored_at IS NULL),
                (SELECT min(e.received_at) FROM events e WHERE e.issue_id = i.id AND e.received_at < @cutoff AND e.restored_at IS NULL)
            FROM issues i
            WHERE i.project_id = @p AND i.id > @after AND i.reviewed = @false AND i.status <> {(int)IssueStatus.Resolved}
              AND (i.keep_until_reviewed = @true{(keep.KeepUnreviewed ? " OR i.level >= @min" : string.Empty)})
            ORDER BY i.id LIMIT @limit
            """), keep).With("@p", projectId).With("@after", afterIssueId ?? 0).With("@cutoff", Db(hotCutoff)).With("@limit", limit);
        var kept = new List<KeptIssue>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            kept.Add(new KeptIssue(ReadKeepState(reader), reader.GetString(6), reader.GetInt64(7), ReadNullableTime(reader, 8)));
        }
        return kept;
    }

    public async Task<bool> TryAcquireLeaseAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // One statement: a free, expired or own lease is taken; a live lease of another holder returns no row.
        await using var command = connection.Command("""
            INSERT INTO retention_leases (name, holder, expires_at) VALUES (@n, @h, @until)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE retention_leases.expires_at <= @now OR retention_leases.holder = excluded.holder
            RETURNING holder
            """).With("@n", name).With("@h", holder).With("@until", Db(until)).With("@now", Db(now));
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task ReleaseLeaseAsync(string name, string holder, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("DELETE FROM retention_leases WHERE name = @n AND holder = @h").With("@n", name).With("@h", holder);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Rows the sweep may take: not restored (those are already archived), and not held back by
    /// "keep unreviewed" (issue neither reviewed nor resolved, and marked keep-until-reviewed or at
    /// or above the level when the policy keeps unreviewed issues).
    /// </summary>
    protected static string SweepableCondition(KeepRule keep) => $"""
        e.restored_at IS NULL AND NOT EXISTS (
            SELECT 1 FROM issues k WHERE k.id = e.issue_id AND k.reviewed = @false AND k.status <> {(int)IssueStatus.Resolved}
            AND (k.keep_until_reviewed = @true{(keep.KeepUnreviewed ? " OR k.level >= @min" : string.Empty)}))
        """;

    protected static DbCommand WithKeep(DbCommand command, KeepRule keep)
    {
        command.With("@false", false).With("@true", true);
        return keep.KeepUnreviewed ? command.With("@min", (int)keep.MinimumLevel) : command;
    }

    public async Task<DateTimeOffset?> OldestSweepableAsync(long projectId, DateTimeOffset from, DateTimeOffset before, KeepRule keep, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = WithKeep(connection.Command($"""
            SELECT min(e.received_at) FROM events e
            WHERE e.project_id = @p AND e.received_at >= @from AND e.received_at < @before AND {SweepableCondition(keep)}
            """), keep).With("@p", projectId).With("@from", Db(from)).With("@before", Db(before));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadNullableTime(reader, 0) : null;
    }

    public async Task<IReadOnlyList<ArchiveBatch>> ListArchiveBatchesAsync(long? projectId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {BatchColumns} FROM archive_batches {(projectId is null ? string.Empty : "WHERE project_id = @p")} ORDER BY day, project_id, sequence");
        if (projectId is { } id)
        {
            command.With("@p", id);
        }
        return await ReadBatchesAsync(command, cancellationToken);
    }

    public async Task<ArchiveBatch> PlanArchiveBatchAsync(long projectId, DateOnly day, Func<int, (string ObjectKey, string ManifestKey)> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var next = connection.Command("SELECT coalesce(max(sequence), 0) + 1 FROM archive_batches WHERE project_id = @p AND day = @d", transaction)
            .With("@p", projectId).With("@d", DayText(day));
        var sequence = Convert.ToInt32(await next.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        var (objectKey, manifestKey) = keys(sequence);
        await using var insert = connection.Command("""
            INSERT INTO archive_batches (project_id, day, sequence, state, object_key, manifest_key, created_at, updated_at)
            VALUES (@p, @d, @s, @state, @o, @m, @t, @t) RETURNING id
            """, transaction)
            .With("@p", projectId).With("@d", DayText(day)).With("@s", sequence).With("@state", (int)ArchiveBatchState.Planned)
            .With("@o", objectKey).With("@m", manifestKey).With("@t", Db(now));
        var id = await InsertReturningIdAsync(insert, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ArchiveBatch(id, projectId, day, sequence, ArchiveBatchState.Planned, objectKey, manifestKey, null, now, now);
    }

    public virtual async Task ReadSweepableEventsAsync(long projectId, DateOnly day, KeepRule keep, Func<ArchivedEvent, ValueTask> sink, CancellationToken cancellationToken)
    {
        var (from, to) = DayBounds(day);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = WithKeep(connection.Command($"""
            SELECT {ArchiveEventColumns} FROM events e
            WHERE e.project_id = @p AND e.received_at >= @from AND e.received_at < @to AND {SweepableCondition(keep)}
            ORDER BY e.received_at, e.event_id
            """), keep).With("@p", projectId).With("@from", Db(from)).With("@to", Db(to));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            await sink(ReadArchivedEvent(reader));
        }
    }

    /// <summary>An <see cref="ArchiveEventColumns"/> row.</summary>
    protected ArchivedEvent ReadArchivedEvent(DbDataReader reader) => new(
        ReadEventId(reader, 0), reader.GetInt64(1), reader.GetInt64(2), ReadTime(reader, 3), ReadTime(reader, 4), (EventLevel)reader.GetInt32(5),
        reader.NullableString(6), reader.NullableString(7), reader.NullableString(8), reader.NullableString(9),
        reader.NullableString(10), reader.NullableString(11), reader.GetString(12), ReadPayload(reader, 13));

    public async Task MarkArchiveBatchAsync(long batchId, ArchiveBatchState state, ArchiveObjectInfo? info, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(info is null
            ? "UPDATE archive_batches SET state = @state, updated_at = @t WHERE id = @id"
            : "UPDATE archive_batches SET state = @state, updated_at = @t, event_count = @n, uncompressed_bytes = @u, bytes = @b, sha256 = @sha WHERE id = @id")
            .With("@state", (int)state).With("@t", Db(now)).With("@id", batchId);
        if (info is not null)
        {
            command.With("@n", info.Events).With("@u", info.UncompressedBytes).With("@b", info.Bytes).With("@sha", info.Sha256);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks batches Deleted inside the transaction that deleted their rows, so the two never disagree.</summary>
    protected async Task MarkBatchesDeletedAsync(DbConnection connection, DbTransaction transaction, IEnumerable<VerifiedBatch> batches, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var batch in batches)
        {
            await using var command = connection.Command("UPDATE archive_batches SET state = @state, updated_at = @t WHERE id = @id", transaction)
                .With("@state", (int)ArchiveBatchState.Deleted).With("@t", Db(now)).With("@id", batch.Batch.Id);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task<List<ArchiveBatch>> ReadBatchesAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var batches = new List<ArchiveBatch>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var info = reader.IsDBNull(7)
                ? null
                : new ArchiveObjectInfo(reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetString(10));
            batches.Add(new ArchiveBatch(
                reader.GetInt64(0), reader.GetInt64(1), DateOnly.ParseExact(reader.GetString(2), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                reader.GetInt32(3), (ArchiveBatchState)reader.GetInt32(4), reader.GetString(5), reader.GetString(6), info,
                ReadTime(reader, 11), ReadTime(reader, 12)));
        }
        return batches;
    }

    protected static string DayText(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The UTC midnights that bound a day (the same bounds as PostgreSQL's daily partitions).</summary>
    public static (DateTimeOffset From, DateTimeOffset To) DayBounds(DateOnly day)
    {
        var from = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return (from, from.AddDays(1));
    }
}

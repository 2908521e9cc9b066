using System.Data.Common;
using Faultline.Docker;

namespace Faultline.Storage;

/// <summary>Docker log streams: the same SQL on both engines (upserts and RETURNING exist on both).</summary>
public abstract partial class SqlStoreBase
{
    private static readonly string StreamColumns = $"""
        s.id, s.project_id, s.name, s.container_id, s.image, s.host, s.source, s.first_seen, s.last_seen, s.events, s.errors,
        s.critical, s.awaiting_review, s.reviewed_at,
        (SELECT count(*) FROM log_stream_issues l JOIN issues i ON i.id = l.issue_id
         WHERE l.stream_id = s.id AND i.keep_until_reviewed = @true AND i.reviewed = @false AND i.status <> {(int)IssueStatus.Resolved})
        """;

    public async Task RecordStreamActivityAsync(IReadOnlyList<LogStreamActivity> activity, CancellationToken cancellationToken)
    {
        if (activity.Count == 0)
        {
            return;
        }
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var a in activity)
        {
            await using var upsert = connection.Command("""
                INSERT INTO log_streams (project_id, name, container_id, image, host, source, first_seen, last_seen, events, errors, awaiting_review)
                VALUES (@p, @n, @c, @i, @h, @s, @t, @t, @e, @x, @k)
                ON CONFLICT (project_id, name) DO UPDATE SET
                    container_id = coalesce(excluded.container_id, log_streams.container_id),
                    image = coalesce(excluded.image, log_streams.image),
                    host = coalesce(excluded.host, log_streams.host),
                    source = coalesce(excluded.source, log_streams.source),
                    last_seen = CASE WHEN excluded.last_seen > log_streams.last_seen THEN excluded.last_seen ELSE log_streams.last_seen END,
                    events = log_streams.events + excluded.events,
                    errors = log_streams.errors + excluded.errors,
                    awaiting_review = (log_streams.awaiting_review OR excluded.awaiting_review)
                RETURNING id
                """, transaction)
                .With("@p", a.ProjectId).With("@n", a.Name).With("@c", a.ContainerId).With("@i", a.Image).With("@h", a.Host).With("@s", a.Source)
                .With("@t", Db(a.LastSeen)).With("@e", a.Events).With("@x", a.Errors).With("@k", a.Kept);
            var streamId = await InsertReturningIdAsync(upsert, cancellationToken);
            foreach (var issueId in a.IssueIds)
            {
                await using var link = connection.Command("""
                    INSERT INTO log_stream_issues (stream_id, issue_id, last_seen) VALUES (@s, @i, @t)
                    ON CONFLICT (stream_id, issue_id) DO UPDATE SET last_seen = excluded.last_seen
                    """, transaction).With("@s", streamId).With("@i", issueId).With("@t", Db(a.LastSeen));
                await link.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<LogStreamRecord>> ListStreamsAsync(long projectId, bool? critical, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var where = critical is null ? "" : " AND s.critical = @c";
        await using var command = connection.Command($"SELECT {StreamColumns} FROM log_streams s WHERE s.project_id = @p{where} ORDER BY s.last_seen DESC, s.id DESC LIMIT @l")
            .With("@p", projectId).With("@l", limit).With("@true", true).With("@false", false);
        if (critical is { } wanted)
        {
            command.With("@c", wanted);
        }
        return await ReadStreamsAsync(command, cancellationToken);
    }

    public async Task<LogStreamRecord?> GetStreamAsync(long projectId, long streamId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await GetStreamAsync(connection, null, projectId, streamId, cancellationToken);
    }

    public async Task<LogStreamRecord?> SetStreamCriticalAsync(long projectId, long streamId, bool critical, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("UPDATE log_streams SET critical = @c WHERE id = @id AND project_id = @p")
            .With("@c", critical).With("@id", streamId).With("@p", projectId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return await GetStreamAsync(connection, null, projectId, streamId, cancellationToken);
    }

    public async Task<IReadOnlyList<long>?> ReviewStreamAsync(long projectId, long streamId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var review = connection.Command(
            "UPDATE log_streams SET awaiting_review = @false, reviewed_at = @now WHERE id = @s AND project_id = @p RETURNING id", transaction)
            .With("@now", Db(now)).With("@s", streamId).With("@p", projectId).With("@false", false);
        if (await review.ExecuteScalarAsync(cancellationToken) is null or DBNull)
        {
            return null;
        }
        // An issue shared with another stream that still awaits review stays held for that one.
        await using var release = connection.Command("""
            UPDATE issues SET keep_until_reviewed = @false
            WHERE keep_until_reviewed = @true
              AND id IN (SELECT issue_id FROM log_stream_issues WHERE stream_id = @s)
              AND NOT EXISTS (SELECT 1 FROM log_stream_issues o JOIN log_streams os ON os.id = o.stream_id
                              WHERE o.issue_id = issues.id AND os.id <> @s AND os.awaiting_review = @true)
            RETURNING id
            """, transaction).With("@s", streamId).With("@true", true).With("@false", false);
        var released = new List<long>();
        await using (var reader = await release.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                released.Add(reader.GetInt64(0));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return released;
    }

    public async Task<IReadOnlyList<(long ProjectId, string Name)>> ListCriticalStreamsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT project_id, name FROM log_streams WHERE critical = @true").With("@true", true);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var streams = new List<(long, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            streams.Add((reader.GetInt64(0), reader.GetString(1)));
        }
        return streams;
    }

    private async Task<LogStreamRecord?> GetStreamAsync(DbConnection connection, DbTransaction? transaction, long projectId, long streamId, CancellationToken cancellationToken)
    {
        await using var command = connection.Command($"SELECT {StreamColumns} FROM log_streams s WHERE s.id = @id AND s.project_id = @p", transaction)
            .With("@id", streamId).With("@p", projectId).With("@true", true).With("@false", false);
        var streams = await ReadStreamsAsync(command, cancellationToken);
        return streams.Count == 0 ? null : streams[0];
    }

    private async Task<IReadOnlyList<LogStreamRecord>> ReadStreamsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var streams = new List<LogStreamRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            streams.Add(new LogStreamRecord(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.NullableString(3), reader.NullableString(4),
                reader.NullableString(5), reader.NullableString(6), ReadTime(reader, 7), ReadTime(reader, 8), reader.GetInt64(9), reader.GetInt64(10),
                reader.GetBoolean(11), reader.GetBoolean(12), ReadNullableTime(reader, 13), (int)reader.GetInt64(14)));
        }
        return streams;
    }
}

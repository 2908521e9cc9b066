using System.Text;
using Faultline.Events;
using Microsoft.Data.Sqlite;

namespace Faultline.Storage.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>SQLite allows one writer at a time; parallel batches would only wait for each other.</summary>
    public int MaxConcurrentBatches => 1;

    public async Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        await using var connection = await OpenWriterAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

        var fresh = await SkipStoredAsync(connection, transaction, events, cancellationToken);
        var issues = await UpsertIssuesAsync(connection, transaction, fresh, cancellationToken);
        var stored = await InsertEventsAsync(connection, transaction, fresh, issues, cancellationToken);
        await CountHoursAsync(connection, transaction, IssueHour.Of(stored.Select(e => (e.IssueId, e.Event.Event.Timestamp))), cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        CheckpointIfWalIsLong(connection);
        return new BatchWriteResult(stored, issues.Values.ToList());
    }

    /// <summary>Drops events whose id is already stored for their project, or repeated within the batch.</summary>
    private static async Task<List<PreparedEvent>> SkipStoredAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        var seen = new HashSet<(long, Guid)>();
        var fresh = new List<PreparedEvent>(events.Count);
        await using var exists = connection.Command("SELECT 1 FROM events WHERE project_id = @p AND event_id = @e", transaction);
        var project = exists.CreateParameter();
        project.ParameterName = "@p";
        var eventId = exists.CreateParameter();
        eventId.ParameterName = "@e";
        exists.Parameters.Add(project);
        exists.Parameters.Add(eventId);
        foreach (var e in events)
        {
            if (!seen.Add((e.ProjectId, e.Event.EventId)))
            {
                continue;
            }
            project.Value = e.ProjectId;
            eventId.Value = e.Event.EventId.ToString("N");
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                fresh.Add(e);
            }
        }
        return fresh;
    }

    private static async Task<Dictionary<(long, string), IssueChange>> UpsertIssuesAsync(SqliteConnection connection, SqliteTransaction transaction, List<PreparedEvent> events, CancellationToken cancellationToken)
    {
        var changes = new Dictionary<(long, string), IssueChange>();
        foreach (var group in events.GroupBy(e => (e.ProjectId, e.Fingerprint)))
        {
            var latest = group.MaxBy(e => e.Event.Timestamp)!;
            var first = group.Min(e => e.Event.Timestamp);
            var count = group.Count();

            await using var select = connection.Command("SELECT id, status FROM issues WHERE project_id = @p AND fingerprint = @f", transaction)
                .With("@p", group.Key.ProjectId).With("@f", group.Key.Fingerprint);
            long? existingId = null;
            var wasResolved = false;
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    existingId = reader.GetInt64(0);
                    wasResolved = reader.GetInt32(1) == (int)IssueStatus.Resolved;
                }
            }

            if (existingId is { } id)
            {
                // A new event on a resolved issue reopens it as a regression.
                await using var update = connection.Command("""
                    UPDATE issues SET
                        times_seen = times_seen + @n,
                        first_seen = min(first_seen, @first),
                        last_seen = max(last_seen, @last),
                        level = @level, title = @title, culprit = @culprit,
                        status = CASE WHEN @regressed THEN 0 ELSE status END,
                        regressed = CASE WHEN @regressed THEN 1 ELSE regressed END,
                        regressed_at = CASE WHEN @regressed THEN @received ELSE regressed_at END,
                        resolved_at = CASE WHEN @regressed THEN NULL ELSE resolved_at END,
                        reviewed = CASE WHEN @regressed THEN 0 ELSE reviewed END
                    WHERE id = @id
                    """, transaction)
                    .With("@n", count).With("@first", Us(first)).With("@last", Us(latest.Event.Timestamp))
                    .With("@level", (int)latest.Event.Level).With("@title", latest.Title).With("@culprit", latest.Culprit)
                    .With("@regressed", wasResolved).With("@received", Us(latest.ReceivedAt)).With("@id", id);
                await update.ExecuteNonQueryAsync(cancellationToken);
                changes[group.Key] = new IssueChange(id, group.Key.ProjectId, group.Key.Fingerprint, Created: false, Regressed: wasResolved, count);
            }
            else
            {
                await using var insert = connection.Command("""
                    INSERT INTO issues (project_id, fingerprint, title, culprit, level, status, times_seen, first_seen, last_seen)
                    VALUES (@p, @f, @title, @culprit, @level, 0, @n, @first, @last) RETURNING id
                    """, transaction)
                    .With("@p", group.Key.ProjectId).With("@f", group.Key.Fingerprint).With("@title", latest.Title)
                    .With("@culprit", latest.Culprit).With("@level", (int)latest.Event.Level).With("@n", count)
                    .With("@first", Us(first)).With("@last", Us(latest.Event.Timestamp));
                var newId = await InsertReturningIdAsync(insert, cancellationToken);
                changes[group.Key] = new IssueChange(newId, group.Key.ProjectId, group.Key.Fingerprint, Created: true, Regressed: false, count);
            }
        }
        return changes;
    }

    private static async Task CountHoursAsync(SqliteConnection connection, SqliteTransaction transaction, List<IssueHour> hours, CancellationToken cancellationToken)
    {
        await using var upsert = connection.Command("""
            INSERT INTO issue_hours (issue_id, hour, events) VALUES (@i, @h, @n)
            ON CONFLICT (issue_id, hour) DO UPDATE SET events = events + excluded.events
            """, transaction);
        var issue = upsert.CreateParameter();
        issue.ParameterName = "@i";
        var hour = upsert.CreateParameter();
        hour.ParameterName = "@h";
        var events = upsert.CreateParameter();
        events.ParameterName = "@n";
        upsert.Parameters.Add(issue);
        upsert.Parameters.Add(hour);
        upsert.Parameters.Add(events);
        foreach (var h in hours)
        {
            issue.Value = h.IssueId;
            hour.Value = Us(h.Hour);
            events.Value = h.Events;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task<List<StoredEvent>> InsertEventsAsync(SqliteConnection connection, SqliteTransaction transaction, List<PreparedEvent> events, Dictionary<(long, string), IssueChange> issues, CancellationToken cancellationToken)
    {
        var stored = new List<StoredEvent>(events.Count);
        await using var insert = connection.Command("""
            INSERT INTO events (project_id, event_id, issue_id, received_at, timestamp, level, environment, release, logger,
                                message, exception_type, exception_value, tags, payload)
            VALUES (@p, @e, @i, @r, @t, @l, @env, @rel, @log, @msg, @xt, @xv, @tags, @payload)
            """, transaction);
        string[] names = ["@p", "@e", "@i", "@r", "@t", "@l", "@env", "@rel", "@log", "@msg", "@xt", "@xv", "@tags", "@payload"];
        var parameters = names.Select(name =>
        {
            var parameter = insert.CreateParameter();
            parameter.ParameterName = name;
            insert.Parameters.Add(parameter);
            return parameter;
        }).ToArray();
        foreach (var e in events)
        {
            var issueId = issues[(e.ProjectId, e.Fingerprint)].IssueId;
            var exception = e.Event.PrimaryException;
            object?[] values =
            [
                e.ProjectId, e.Event.EventId.ToString("N"), issueId, Us(e.ReceivedAt), Us(e.Event.Timestamp), (int)e.Event.Level,
                e.Event.Environment, e.Event.Release, e.Event.Logger, e.Event.Message, exception?.Type, exception?.Value,
                EventJson.SerializeTags(e.Event.Tags), Encoding.UTF8.GetString(e.PayloadJson),
            ];
            for (var i = 0; i < values.Length; i++)
            {
                parameters[i].Value = values[i] ?? DBNull.Value;
            }
            await insert.ExecuteNonQueryAsync(cancellationToken);
            stored.Add(new StoredEvent(e, issueId));
        }
        return stored;
    }
}

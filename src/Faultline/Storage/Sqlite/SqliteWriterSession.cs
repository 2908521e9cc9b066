using Microsoft.Data.Sqlite;

namespace Faultline.Storage.Sqlite;

/// <summary>
/// The batching writer's own connection, kept open with its statements prepared once. Opening a
/// pooled connection per batch re-ran its pragmas and re-parsed every statement of the batch: in
/// <c>perf</c> under native ingest, SQL parsing alone was 9 % of the server's CPU.
/// </summary>
internal sealed class SqliteWriterSession : IDisposable
{
    private readonly SqliteCommand[] _all;

    private SqliteWriterSession(SqliteConnection connection)
    {
        Connection = connection;
        EventExists = Prepare("SELECT 1 FROM events WHERE project_id = @p AND event_id = @e", "@p", "@e");
        IssueFind = Prepare("SELECT id, status FROM issues WHERE project_id = @p AND fingerprint = @f", "@p", "@f");
        IssueUpdate = Prepare("""
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
            """, "@n", "@first", "@last", "@level", "@title", "@culprit", "@regressed", "@received", "@id");
        IssueInsert = Prepare("""
            INSERT INTO issues (project_id, fingerprint, title, culprit, level, status, times_seen, first_seen, last_seen)
            VALUES (@p, @f, @title, @culprit, @level, 0, @n, @first, @last) RETURNING id
            """, "@p", "@f", "@title", "@culprit", "@level", "@n", "@first", "@last");
        HourUpsert = Prepare("""
            INSERT INTO issue_hours (issue_id, hour, events) VALUES (@i, @h, @n)
            ON CONFLICT (issue_id, hour) DO UPDATE SET events = events + excluded.events
            """, "@i", "@h", "@n");
        EventInsert = Prepare("""
            INSERT INTO events (project_id, event_id, issue_id, received_at, timestamp, level, environment, release, logger,
                                message, exception_type, exception_value, tags, payload)
            VALUES (@p, @e, @i, @r, @t, @l, @env, @rel, @log, @msg, @xt, @xv, @tags, @payload)
            """, "@p", "@e", "@i", "@r", "@t", "@l", "@env", "@rel", "@log", "@msg", "@xt", "@xv", "@tags", "@payload");
        LastRowId = Prepare(SqliteStore.LastRowIdSql);
        TextIndexInsert = Prepare(SqliteStore.TextIndexInsertSql, "@after");
        _all = [EventExists, IssueFind, IssueUpdate, IssueInsert, HourUpsert, EventInsert, LastRowId, TextIndexInsert];
    }

    public SqliteConnection Connection { get; }

    public SqliteCommand EventExists { get; }
    public SqliteCommand IssueFind { get; }
    public SqliteCommand IssueUpdate { get; }
    public SqliteCommand IssueInsert { get; }
    public SqliteCommand HourUpsert { get; }
    public SqliteCommand EventInsert { get; }
    public SqliteCommand LastRowId { get; }
    public SqliteCommand TextIndexInsert { get; }

    public static SqliteWriterSession Open(SqliteConnection connection) => new(connection);

    /// <summary>Begins the batch's transaction and enlists every statement in it.</summary>
    public SqliteTransaction Begin()
    {
        var transaction = Connection.BeginTransaction();
        foreach (var command in _all)
        {
            command.Transaction = transaction;
        }
        return transaction;
    }

    /// <summary>Sets the statement's parameters, in the order they were declared.</summary>
    public static SqliteCommand Bind(SqliteCommand command, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        return command;
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.AddWithValue(name, DBNull.Value);
        }
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _all)
        {
            command.Dispose();
        }
        Connection.Dispose();
    }
}

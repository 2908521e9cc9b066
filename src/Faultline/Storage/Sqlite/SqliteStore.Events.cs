using Faultline.Events;

namespace Faultline.Storage.Sqlite;

public sealed partial class SqliteStore
{
    /// <summary>SQLite allows one writer at a time; parallel batches would only wait for each other.</summary>
    public int MaxConcurrentBatches => 1;

    public async Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        await _writerLock.WaitAsync(cancellationToken);
        try
        {
            _writer ??= SqliteWriterSession.Open(await OpenWriterAsync(cancellationToken));
            try
            {
                return WriteBatch(_writer, events);
            }
            catch
            {
                // The next batch starts from a new connection rather than one in an unknown state.
                _writer.Dispose();
                _writer = null;
                throw;
            }
        }
        finally
        {
            _writerLock.Release();
        }
    }

    /// <summary>
    /// SQLite's calls complete synchronously (its async methods only wrap them), so the batch runs as one
    /// synchronous block on the writer's thread.
    /// </summary>
    private BatchWriteResult WriteBatch(SqliteWriterSession session, IReadOnlyList<PreparedEvent> events)
    {
        using var transaction = session.Begin();
        var lastRowId = Convert.ToInt64(session.LastRowId.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        var fresh = SkipStored(session, events);
        var issues = UpsertIssues(session, fresh);
        var stored = InsertEvents(session, fresh, issues);
        CountHours(session, IssueHour.Of(stored.Select(e => (e.IssueId, e.Event.Event.Timestamp))));
        // Last, in one statement: FTS5 writes its pending terms out at every statement savepoint, so the
        // per-row trigger this replaces wrote (and later merged) one index segment per event.
        session.TextIndexInsert.Parameters[0].Value = lastRowId;
        session.TextIndexInsert.ExecuteNonQuery();
        transaction.Commit();
        BatchCommitted();
        CheckpointIfWalIsLong(session.Connection);
        return new BatchWriteResult(stored, issues.Values.ToList());
    }

    /// <summary>Drops events whose id is already stored for their project, or repeated within the batch.</summary>
    private static List<PreparedEvent> SkipStored(SqliteWriterSession session, IReadOnlyList<PreparedEvent> events)
    {
        var seen = new HashSet<(long, Guid)>();
        var fresh = new List<PreparedEvent>(events.Count);
        foreach (var e in events)
        {
            if (!seen.Add((e.ProjectId, e.Event.EventId)))
            {
                continue;
            }
            if (SqliteWriterSession.Bind(session.EventExists, e.ProjectId, e.Event.EventId.ToString("N")).ExecuteScalar() is null)
            {
                fresh.Add(e);
            }
        }
        return fresh;
    }

    private static Dictionary<(long, string), IssueChange> UpsertIssues(SqliteWriterSession session, List<PreparedEvent> events)
    {
        var changes = new Dictionary<(long, string), IssueChange>();
        foreach (var group in events.GroupBy(e => (e.ProjectId, e.Fingerprint)))
        {
            var latest = group.MaxBy(e => e.Event.Timestamp)!;
            var first = group.Min(e => e.Event.Timestamp);
            var count = group.Count();

            long? existingId = null;
            var wasResolved = false;
            using (var reader = SqliteWriterSession.Bind(session.IssueFind, group.Key.ProjectId, group.Key.Fingerprint).ExecuteReader())
            {
                if (reader.Read())
                {
                    existingId = reader.GetInt64(0);
                    wasResolved = reader.GetInt32(1) == (int)IssueStatus.Resolved;
                }
            }

            if (existingId is { } id)
            {
                // A new event on a resolved issue reopens it as a regression.
                SqliteWriterSession.Bind(session.IssueUpdate, count, Us(first), Us(latest.Event.Timestamp), (int)latest.Event.Level,
                    latest.Title, latest.Culprit, wasResolved, Us(latest.ReceivedAt), id).ExecuteNonQuery();
                changes[group.Key] = new IssueChange(id, group.Key.ProjectId, group.Key.Fingerprint, Created: false, Regressed: wasResolved, count);
            }
            else
            {
                var insert = SqliteWriterSession.Bind(session.IssueInsert, group.Key.ProjectId, group.Key.Fingerprint, latest.Title,
                    latest.Culprit, (int)latest.Event.Level, count, Us(first), Us(latest.Event.Timestamp));
                var newId = Convert.ToInt64(insert.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                changes[group.Key] = new IssueChange(newId, group.Key.ProjectId, group.Key.Fingerprint, Created: true, Regressed: false, count);
            }
        }
        return changes;
    }

    private static void CountHours(SqliteWriterSession session, List<IssueHour> hours)
    {
        foreach (var h in hours)
        {
            SqliteWriterSession.Bind(session.HourUpsert, h.IssueId, Us(h.Hour), h.Events).ExecuteNonQuery();
        }
    }

    private static List<StoredEvent> InsertEvents(SqliteWriterSession session, List<PreparedEvent> events, Dictionary<(long, string), IssueChange> issues)
    {
        var stored = new List<StoredEvent>(events.Count);
        foreach (var e in events)
        {
            var issueId = issues[(e.ProjectId, e.Fingerprint)].IssueId;
            var exception = e.Event.PrimaryException;
            SqliteWriterSession.Bind(session.EventInsert,
                e.ProjectId, e.Event.EventId.ToString("N"), issueId, Us(e.ReceivedAt), Us(e.Event.Timestamp), (int)e.Event.Level,
                e.Event.Environment, e.Event.Release, e.Event.Logger, e.Event.Message, exception?.Type, exception?.Value,
                EventJson.SerializeTags(e.Event.Tags), SqlitePayload.Compress(e.PayloadJson)).ExecuteNonQuery();
            stored.Add(new StoredEvent(e, issueId));
        }
        return stored;
    }
}

using System.Data.Common;
using System.Threading.Channels;
using Faultline.Search;
using Microsoft.Data.Sqlite;

namespace Faultline.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with full fsync, so a committed batch survives
/// a crash or power loss. The single batching writer is its only heavy writer.
/// </summary>
public sealed partial class SqliteStore : SqlStoreBase, IFaultlineStore, IDisposable
{
    // Checkpoints copy the WAL into the database file and fsync it. Run by the writer on a commit they stall
    // that commit, 70 to 110 ms every second or two under load (p99 of acknowledgements at 4,000 events/s
    // 60-72 ms, measured). The checkpointer below runs them on a connection of its own, PASSIVE, so they never
    // block the writer: right after a batch's commit, so that it has usually copied every frame before the next
    // batch begins, which then starts the WAL again from its beginning (p99 at 4,000 events/s ~20 ms).
    // Passes at most every MinPassSpacing, and none for QuietAfterRestart once the WAL has restarted: each
    // pass's fsync of the database file competes with the writer's WAL fsyncs, and a page rewritten by many
    // batches is copied once per pass. Passes 25 ms apart without the quiet time cost 13-25 % of peak rate,
    // with it none measurable; a longer quiet time (500 ms) doubled p99 again.
    private static readonly TimeSpan MinPassSpacing = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan QuietAfterRestart = TimeSpan.FromMilliseconds(200);

    /// <summary>A pass this long after the last one even without a batch, for writes made outside the writer.</summary>
    private static readonly TimeSpan IdleCheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Page cache of the writer's connections (KiB). A batch of up to 2,000 events dirties more pages than
    /// SQLite's default 2 MB cache holds; spilled pages are written to the WAL again each time the batch
    /// touches them: measured on tmpfs, writer time per event of 2,000-line syslog batches fell from 147 to 122 µs.
    /// </summary>
    private const int WriterCacheKib = 32 * 1024;

    private readonly string _connectionString;
    private readonly string _writerConnectionString;
    private readonly Channel<bool> _checkpointRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _checkpointer;
    private readonly CancellationTokenSource _stopping = new();

    public SqliteStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        // Differs from the readers' string only so that the writer's connections get their own pool
        // (pools are keyed by connection string) and keep their larger cache; foreign keys are on anyway.
        _writerConnectionString = new SqliteConnectionStringBuilder(_connectionString) { ForeignKeys = true }.ToString();
        _checkpointer = Task.Run(RunCheckpointerAsync);
    }

    /// <summary>
    /// WAL frames (pages) after which the writer checkpoints itself between two batches, when the checkpointer
    /// has not had the WAL restarted. Unchecked, the WAL grows without end under sustained ingest (448 MB after
    /// 12 s of native ingest, measured), on disk and in the WAL index every lookup searches. Run by the only
    /// writer, the checkpoint catches up and the next batch restarts the WAL (16,384 frames is about 64 MB); as
    /// the checkpointer has copied nearly all of it, it has little to copy.
    /// </summary>
    private const int MaxWalFrames = 16 * 1024;

    private int _walFrames;

    /// <summary>The batching writer's connection and statements; one batch at a time.</summary>
    private readonly SemaphoreSlim _writerLock = new(1, 1);
    private SqliteWriterSession? _writer;

    /// <summary>
    /// Indexes the text of the events inserted after row @after. Run once per write, at its end: FTS5 writes
    /// its pending terms out at every statement savepoint, so a per-row trigger wrote one segment per event.
    /// </summary>
    internal const string LastRowIdSql = "SELECT coalesce(max(row_id), 0) FROM events";

    internal const string TextIndexInsertSql = """
        INSERT INTO events_fts (rowid, message, exception_type, exception_value)
        SELECT row_id, message, exception_type, exception_value FROM events WHERE row_id > @after
        """;

    /// <summary>
    /// Checkpoints right after a batch's commit, at most once per <see cref="MinPassSpacing"/>, none for
    /// <see cref="QuietAfterRestart"/> after the WAL restarted, and after <see cref="IdleCheckpointInterval"/>
    /// without a batch.
    /// </summary>
    private async Task RunCheckpointerAsync()
    {
        SqliteConnection? connection = null;
        var walFramesBefore = 0;
        try
        {
            while (true)
            {
                // A signal left from before the pause names a commit long past: wait for the next one.
                _checkpointRequests.Reader.TryRead(out _);
                await WaitForBatchAsync(IdleCheckpointInterval);
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }
                var started = Environment.TickCount64;
                var pause = MinPassSpacing;
                try
                {
                    connection ??= await OpenAsync(_stopping.Token);
                    RunCheckpoint(connection);
                    var walFrames = Volatile.Read(ref _walFrames);
                    if (walFrames < walFramesBefore)
                    {
                        // A batch restarted the WAL after the last pass copied it all: let frames gather.
                        pause = QuietAfterRestart;
                    }
                    walFramesBefore = walFrames;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SqliteException)
                {
                    // Busy or not yet created: the next round checkpoints what this one could not.
                    connection?.Dispose();
                    connection = null;
                }
                pause -= TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (pause > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(pause, _stopping.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Waits for the next batch's commit, at most <paramref name="timeout"/>.</summary>
    private async Task WaitForBatchAsync(TimeSpan timeout)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        waiting.CancelAfter(timeout);
        try
        {
            await _checkpointRequests.Reader.ReadAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            // No batch for a while (or stopping, which the caller checks).
        }
    }

    private void BatchCommitted() => _checkpointRequests.Writer.TryWrite(true);

    /// <summary>PRAGMA wal_checkpoint(PASSIVE); remembers the WAL's length in frames that it reports.</summary>
    private void RunCheckpoint(SqliteConnection connection)
    {
        using var command = connection.Command("PRAGMA wal_checkpoint(PASSIVE)");
        using var reader = command.ExecuteReader();
        if (reader.Read() && reader.GetInt32(0) == 0)
        {
            Volatile.Write(ref _walFrames, reader.GetInt32(1));
        }
    }

    /// <summary>Called by the writer after a commit, on its connection: checkpoints when the WAL has grown too long.</summary>
    private void CheckpointIfWalIsLong(SqliteConnection writer)
    {
        if (Volatile.Read(ref _walFrames) <= MaxWalFrames)
        {
            return;
        }
        try
        {
            RunCheckpoint(writer);
        }
        catch (SqliteException)
        {
            // Busy: the checkpointer or the next batch tries again.
        }
    }

    private int _disposed;

    /// <summary>Idempotent: the container disposes the store once per interface it is registered under.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stopping.Cancel();
        _checkpointer.Wait();
        _stopping.Dispose();
        _writer?.Dispose();
        _writerLock.Dispose();
    }

    private Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) => OpenAsync(_connectionString, cancellationToken);

    private async Task<SqliteConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(_writerConnectionString, cancellationToken);
        // temp_store=MEMORY: a batch's statement journal and temporary b-trees stay in memory instead of
        // a new file under /var/tmp per batch.
        await using var cache = connection.Command($"PRAGMA cache_size=-{WriterCacheKib}; PRAGMA temp_store=MEMORY;");
        await cache.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        // synchronous=FULL: an acknowledged event must survive power loss, not only a process crash.
        await using var pragma = connection.Command(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint=0;");
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // BEGIN IMMEDIATE takes the write lock first, so two processes migrating at once run one after the other.
        await using (var begin = connection.Command("BEGIN IMMEDIATE"))
        {
            await begin.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using (var create = connection.Command(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            var applied = new HashSet<long>();
            await using (var select = connection.Command("SELECT version FROM schema_migrations"))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt64(0));
                }
            }
            var done = new List<int>();
            foreach (var (version, sql) in SqliteSchema.Migrations.OrderBy(m => m.Version))
            {
                if (applied.Contains(version))
                {
                    continue;
                }
                await using (var migrate = connection.Command(sql))
                {
                    await migrate.ExecuteNonQueryAsync(cancellationToken);
                }
                await using (var record = connection.Command("INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)"))
                {
                    await record.With("@v", version).With("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ExecuteNonQueryAsync(cancellationToken);
                }
                done.Add(version);
            }
            await using (var commit = connection.Command("COMMIT"))
            {
                await commit.ExecuteNonQueryAsync(cancellationToken);
            }
            return done;
        }
        catch
        {
            await using var rollback = connection.Command("ROLLBACK");
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            throw;
        }
    }

    public Task PrepareAheadAsync(DateTimeOffset now, CancellationToken cancellationToken) => PruneIssueHoursAsync(now, cancellationToken);

    public int LatestSchemaVersion => SqliteSchema.Migrations.Max(m => m.Version);

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(cancellationToken);

    protected override object Db(DateTimeOffset value) => Us(value);

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => FromMicroseconds(reader.GetInt64(ordinal));

    protected override ISearchDialect SearchDialect => SqliteSearchDialect.Instance;

    protected override object DbEventId(Guid eventId) => eventId.ToString("N");

    protected override Guid ReadEventId(DbDataReader reader, int ordinal) => Guid.ParseExact(reader.GetString(ordinal), "N");

    protected override string ReadPayload(DbDataReader reader, int ordinal) => SqlitePayload.Read(reader, ordinal);

    protected override string BucketExpression => "(e.timestamp - @since) / @interval";

    protected override object DbInterval(TimeSpan interval) => interval.Ticks / 10;

    private static long Us(DateTimeOffset value) => Microseconds(value);
}

using System.Data.Common;
using System.Globalization;
using Faultline.Search;
using Npgsql;

namespace Faultline.Storage.Postgres;

/// <summary>The production store. Events go in by binary COPY into daily partitions.</summary>
public sealed partial class PostgresStore(NpgsqlDataSource dataSource) : SqlStoreBase, IFaultlineStore
{
    // Any constant works; it only has to be the same on every node.
    private const long MigrationLockKey = 0x4661756c746c696e;
    private const int PartitionDaysBehind = 1;
    private const int PartitionDaysAhead = 7;

    protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    protected override object Db(DateTimeOffset value) => value.ToUniversalTime();

    protected override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    protected override ISearchDialect SearchDialect => PostgresSearchDialect.Instance;

    protected override object DbEventId(Guid eventId) => eventId;

    protected override Guid ReadEventId(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);

    protected override string BucketExpression => "floor(extract(epoch FROM (e.timestamp - @since)) / @interval)::bigint";

    protected override object DbInterval(TimeSpan interval) => interval.TotalSeconds;

    // event_ids gives the partition (received_at) and an exact key of ix_events_project_time.
    protected override string EventByIdSource =>
        "event_ids d JOIN events e ON e.project_id = d.project_id AND e.timestamp = d.timestamp AND e.event_id = d.event_id AND e.received_at = d.received_at";

    protected override string EventByIdColumn => "d.event_id";

    protected override string LockOrganizationSql => "SELECT id FROM organizations WHERE id = @o FOR UPDATE";

    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Nodes starting together take turns; the second finds the schema current.
        await using (var lockCommand = connection.Command("SELECT pg_advisory_xact_lock(@k)", transaction).With("@k", MigrationLockKey))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var create = connection.Command(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)", transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var applied = new HashSet<int>();
        await using (var select = connection.Command("SELECT version FROM schema_migrations", transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }
        var done = new List<int>();
        foreach (var (version, sql) in PostgresSchema.Migrations.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
        {
            await using (var migrate = connection.Command(sql, transaction))
            {
                await migrate.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var record = connection.Command("INSERT INTO schema_migrations (version, applied_at) VALUES (@v, now())", transaction).With("@v", version))
            {
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            done.Add(version);
        }
        await transaction.CommitAsync(cancellationToken);
        return done;
    }

    public int LatestSchemaVersion => PostgresSchema.Migrations.Max(m => m.Version);

    /// <summary>Creates the daily partitions from yesterday to a week ahead.</summary>
    public async Task PrepareAheadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var today = now.UtcDateTime.Date;
        for (var offset = -PartitionDaysBehind; offset <= PartitionDaysAhead; offset++)
        {
            var day = today.AddDays(offset);
            var name = PartitionName(day);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = connection.Command("SELECT pg_advisory_xact_lock(@k)", transaction).With("@k", MigrationLockKey))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var exists = connection.Command("SELECT to_regclass(@n) IS NOT NULL", transaction).With("@n", name))
            {
                if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
                {
                    await transaction.CommitAsync(cancellationToken);
                    continue;
                }
            }
            // The names and bounds come from dates we format ourselves, never from input.
            var sql = string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ('{day:yyyy-MM-dd} 00:00:00+00') TO ('{day.AddDays(1):yyyy-MM-dd} 00:00:00+00')");
            try
            {
                await using var create = connection.Command(sql, transaction);
                await create.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation)
            {
                // The default partition already holds rows of that day (the clock jumped):
                // they stay there, queryable, and retention treats that partition row by row.
                await transaction.RollbackAsync(cancellationToken);
            }
        }
        await PruneIssueHoursAsync(now, cancellationToken);
    }

    public static string PartitionName(DateTime day) =>
        "events_p" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}

using System.Data.Common;
using Faultline.Storage;
using Faultline.Storage.Postgres;
using Faultline.Storage.Sqlite;
using Npgsql;

namespace Faultline.Tests.Infrastructure;

public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// A fresh, empty database of one engine for one test class. PostgreSQL comes from the cluster
/// ./test.sh starts (FAULTLINE_TEST_POSTGRES); without it the tests fail and say so, never skip.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "FAULTLINE_TEST_POSTGRES";

    private readonly string? _databaseName;
    private readonly List<IFaultlineStore> _stores = [];

    private TestDatabase(StoreKind kind, string? sqlitePath, string? connectionString, string? databaseName)
    {
        Kind = kind;
        SqlitePath = sqlitePath;
        ConnectionString = connectionString;
        _databaseName = databaseName;
    }

    public StoreKind Kind { get; }
    public string? SqlitePath { get; }
    public string? ConnectionString { get; }

    /// <summary>The configuration that points a Faultline host at this database.</summary>
    public IReadOnlyDictionary<string, string?> Settings => Kind == StoreKind.Postgres
        ? new Dictionary<string, string?> { ["Faultline:Storage:Provider"] = "postgres", ["Faultline:Storage:Postgres:ConnectionString"] = ConnectionString }
        : new Dictionary<string, string?> { ["Faultline:Storage:Provider"] = "sqlite", ["Faultline:Storage:Sqlite:Path"] = SqlitePath };

    public static async Task<TestDatabase> CreateAsync(StoreKind kind)
    {
        if (kind == StoreKind.Sqlite)
        {
            var directory = Path.Combine(Path.GetTempPath(), "faultline-tests", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            return new TestDatabase(kind, Path.Combine(directory, "faultline.db"), null, null);
        }
        var admin = AdminConnectionString();
        var name = "flt_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(kind, null, builder.ConnectionString, name);
    }

    /// <summary>An open connection to this database, for tests that read or change rows behind the store.</summary>
    public async Task<DbConnection> OpenConnectionAsync()
    {
        DbConnection connection = Kind == StoreKind.Sqlite
            ? new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={SqlitePath}")
            : new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A migrated store on this database.</summary>
    public async Task<IFaultlineStore> OpenStoreAsync()
    {
        IFaultlineStore store = Kind == StoreKind.Postgres
            ? new PostgresStore(NpgsqlDataSource.Create(ConnectionString!))
            : new SqliteStore(SqlitePath!);
        await store.MigrateAsync(CancellationToken.None);
        await store.PrepareAheadAsync(DateTimeOffset.UtcNow, CancellationToken.None);
        _stores.Add(store);
        return store;
    }

    public static string AdminConnectionString() =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"PostgreSQL tests need {PostgresVariable} (an Npgsql connection string to a server where databases can be created). Run ./test.sh, which starts one.");

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores.OfType<IDisposable>())
        {
            store.Dispose();
        }
        if (Kind == StoreKind.Sqlite && SqlitePath is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(Path.GetDirectoryName(SqlitePath)!, recursive: true);
            }
            catch (IOException)
            {
                // A file still open by a pooled connection; the temp folder is cleaned by the OS.
            }
        }
        else if (_databaseName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(AdminConnectionString());
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_databaseName} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}

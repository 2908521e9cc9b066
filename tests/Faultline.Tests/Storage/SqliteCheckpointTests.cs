using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Faultline.Tests.Storage;

/// <summary>
/// The SQLite store's checkpointer copies the WAL into the database file after batches, off the writer, so
/// that the WAL starts again from its beginning instead of growing until the writer must checkpoint it.
/// </summary>
public sealed class SqliteCheckpointTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private IFaultlineStore _store = null!;
    private long _projectId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(StoreKind.Sqlite);
        _store = await _database.OpenStoreAsync();
        var (org, _) = await _store.GetOrCreateOrganizationAsync("acme", "Acme", DateTimeOffset.UtcNow, default);
        _projectId = (await _store.CreateProjectAsync(org.Id, "Web", "web", DateTimeOffset.UtcNow, default)).Id;
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_batch_reaches_the_database_file_without_the_writer_checkpointing()
    {
        var batch = Enumerable.Range(0, 20)
            .Select(i => EventBuilder.Prepare(_projectId, EventBuilder.Exception("TimeoutException", $"call {i} timed out")))
            .ToList();
        await _store.WriteBatchAsync(batch, default);

        // The database file alone, copied without its WAL, holds only what a checkpoint copied into it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long inFile = -1;
        while (inFile != batch.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            inFile = CountEventsInDatabaseFileAlone();
        }
        Assert.Equal(batch.Count, inFile);
    }

    [Fact]
    public async Task The_wal_starts_again_while_batches_keep_coming()
    {
        for (var round = 0; round < 300; round++)
        {
            var batch = Enumerable.Range(0, 20)
                .Select(i => EventBuilder.Prepare(_projectId, EventBuilder.Exception("TimeoutException", $"round {round} call {i}")))
                .ToList();
            await _store.WriteBatchAsync(batch, default);
            // Ingest below full load leaves gaps between batches, in which a pass can finish.
            await Task.Delay(10);
        }

        // Every page in the database file came through the WAL. Never restarted, the WAL file would hold
        // them all and every rewrite of them (over five times the database file, measured); restarted, it
        // is reused from its beginning and stays at the longest stretch between two restarts (here about
        // 0.8 times the database file: the checkpointer pauses 200 ms after a restart).
        var walLength = new FileInfo(_database.SqlitePath + "-wal").Length;
        var databaseLength = new FileInfo(_database.SqlitePath!).Length;
        Assert.True(walLength < 2 * databaseLength, $"WAL file {walLength:N0} bytes, database file {databaseLength:N0} bytes");
    }

    private long CountEventsInDatabaseFileAlone()
    {
        var copy = Path.Combine(Path.GetDirectoryName(_database.SqlitePath)!, $"copy-{Guid.NewGuid():N}.db");
        try
        {
            File.Copy(_database.SqlitePath!, copy);
            using var connection = new SqliteConnection($"Data Source={copy};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM events";
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            // Copied while a checkpoint was writing it, or before the first one: try again.
            return -1;
        }
        finally
        {
            File.Delete(copy);
            File.Delete(copy + "-wal");
            File.Delete(copy + "-shm");
        }
    }
}

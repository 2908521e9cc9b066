using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Faultline.Tests.Infrastructure;
using Npgsql;

namespace Faultline.Tests.Operations;

public abstract class OperationsTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;

    public async Task InitializeAsync() => _app = await FaultlineApp.StartAsync(kind);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Health_and_readiness_answer_200_when_the_store_is_current()
    {
        var health = await _app.CreateClient().GetAsync("/healthz");
        var ready = await _app.CreateClient().GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }
}

public sealed class SqliteOperationsTests() : OperationsTests(StoreKind.Sqlite);

public sealed class PostgresOperationsTests() : OperationsTests(StoreKind.Postgres)
{
    [Fact]
    public async Task Readiness_fails_when_the_database_is_gone_while_health_stays_up()
    {
        await using var app = await FaultlineApp.StartAsync(StoreKind.Postgres);
        var database = new NpgsqlConnectionStringBuilder(app.Database.ConnectionString).Database;
        await using (var admin = new NpgsqlConnection(TestDatabase.AdminConnectionString()))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        NpgsqlConnection.ClearAllPools();

        var ready = await app.CreateClient().GetAsync("/readyz");
        var health = await app.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}

/// <summary>
/// The OpenAPI document is checked in, so an API change shows up in review. After a deliberate
/// change, run the tests with FAULTLINE_UPDATE_SNAPSHOTS=1 and commit the new file.
/// </summary>
public sealed class OpenApiSnapshotTests : IAsyncLifetime
{
    private static readonly string SnapshotPath = Path.Combine(RepositoryFiles.Root, "tests", "Faultline.Tests", "Fixtures", "openapi.snapshot.json");
    private FaultlineApp _app = null!;

    public async Task InitializeAsync() => _app = await FaultlineApp.StartAsync(StoreKind.Sqlite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_openapi_document_matches_the_snapshot()
    {
        var served = JsonNode.Parse(await _app.CreateClient().GetStringAsync("/api/openapi.json"))!;
        var actual = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        if (Environment.GetEnvironmentVariable("FAULTLINE_UPDATE_SNAPSHOTS") == "1" || !File.Exists(SnapshotPath) && Environment.GetEnvironmentVariable("CI") != "true")
        {
            await File.WriteAllTextAsync(SnapshotPath, actual + "\n");
        }

        Assert.True(File.Exists(SnapshotPath), $"Missing {SnapshotPath}: run the tests once with FAULTLINE_UPDATE_SNAPSHOTS=1 and commit it.");
        var expected = (await File.ReadAllTextAsync(SnapshotPath)).TrimEnd('\n');
        Assert.True(expected == actual, "The OpenAPI document changed. If that is deliberate, rerun with FAULTLINE_UPDATE_SNAPSHOTS=1 and commit tests/Faultline.Tests/Fixtures/openapi.snapshot.json.");
    }
}

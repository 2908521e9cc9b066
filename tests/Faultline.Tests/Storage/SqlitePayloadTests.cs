using Faultline.Storage;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Storage;

/// <summary>SQLite keeps event payloads Brotli-compressed; rows written as text before still read.</summary>
public sealed class SqlitePayloadTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private IFaultlineStore _store = null!;
    private long _projectId;
    private long _userId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(StoreKind.Sqlite);
        _store = await _database.OpenStoreAsync();
        var now = DateTimeOffset.UtcNow;
        var (org, _) = await _store.GetOrCreateOrganizationAsync("acme", "Acme", now, default);
        _projectId = (await _store.CreateProjectAsync(org.Id, "Web", "web", now, default)).Id;
        _userId = (await _store.CreateUserAsync("member@acme.test", "hash", false, now, default)).Id;
        await _store.AddMemberAsync(org.Id, _userId, "member", default);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_payload_is_stored_compressed_and_read_back_whole()
    {
        var e = EventBuilder.Exception("InvalidOperationException", "Sequence contains no elements");
        var prepared = EventBuilder.Prepare(_projectId, e);
        await _store.WriteBatchAsync([prepared], default);

        await using (var connection = await _database.OpenConnectionAsync())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT typeof(payload), length(payload) FROM events";
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("blob", reader.GetString(0));
            Assert.True(reader.GetInt64(1) < prepared.PayloadJson.Length, $"{reader.GetInt64(1)} compressed bytes of {prepared.PayloadJson.Length}");
        }
        var stored = await _store.GetEventForUserAsync(_userId, e.EventId, default);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(prepared.PayloadJson), stored!.Payload);
    }

    [Fact]
    public async Task A_payload_stored_as_text_by_an_earlier_version_still_reads()
    {
        var e = EventBuilder.Exception("TimeoutException", "after 100 ms");
        await _store.WriteBatchAsync([EventBuilder.Prepare(_projectId, e)], default);
        const string Legacy = """{"event_id":"legacy","message":"written as text"}""";
        await using (var connection = await _database.OpenConnectionAsync())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE events SET payload = '{Legacy}'";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var stored = await _store.GetEventForUserAsync(_userId, e.EventId, default);
        Assert.Equal(Legacy, stored!.Payload);
        var page = await _store.ListEventsAsync(_projectId, new EventListRequest(Faultline.Search.SearchQuery.Empty, null, 10, null), default);
        Assert.Equal(Legacy, Assert.Single(page.Items).Payload);
    }
}

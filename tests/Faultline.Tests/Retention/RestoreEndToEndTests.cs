using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Retention;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Retention;

/// <summary>
/// Archive and restore over HTTP on a real Kestrel server with s3rver as the archive, on both engines:
/// old events are swept to S3 and gone from the API, the archive is listed through the API, a restore
/// through the API brings them back, and they are found by id, by search and under their issue.
/// </summary>
public abstract class RestoreEndToEndTests(StoreKind kind) : IAsyncLifetime
{
    private const int OldDays = 3;
    private const int PerDay = 4;
    private readonly string _prefix = "e2e/" + Guid.NewGuid().ToString("N") + "/";
    private KestrelFaultline _server = null!;

    public async Task InitializeAsync()
    {
        using var probe = S3TestServer.Archive(); // fails with a clear message when FAULTLINE_TEST_S3 is missing
        _server = await KestrelFaultline.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Retention:SweepEnabled"] = "false",
            ["Faultline:Retention:HotDays"] = "30",
            ["Faultline:Retention:Archive:Target"] = "s3",
            ["Faultline:Retention:Archive:S3:ServiceUrl"] = Environment.GetEnvironmentVariable(S3TestServer.Variable),
            ["Faultline:Retention:Archive:S3:Bucket"] = S3TestServer.Bucket,
            ["Faultline:Retention:Archive:S3:Prefix"] = _prefix,
            ["Faultline:Retention:Archive:S3:ForcePathStyle"] = "true",
            ["Faultline:Retention:Archive:S3:AccessKey"] = "S3RVER",
            ["Faultline:Retention:Archive:S3:SecretKey"] = "S3RVER",
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Archived_events_come_back_through_the_restore_api_and_are_searchable_again()
    {
        var tenant = await _server.CreateTenantAsync("acme");
        var api = _server.ApiClient(tenant.Token);
        // Events received 40 to 42 days ago, written straight to the store (ingest stamps the current time).
        var store = _server.Services.GetRequiredService<IFaultlineStore>();
        var ids = new List<Guid>();
        var firstDay = DateTimeOffset.UtcNow.Date.AddDays(-40 - OldDays + 1);
        for (var day = 0; day < OldDays; day++)
        {
            var at = new DateTimeOffset(firstDay.AddDays(day).AddHours(8), TimeSpan.Zero);
            var batch = Enumerable.Range(0, PerDay).Select(i => EventBuilder.Exception("LedgerMismatchException", $"ledger {day}-{i} off by 3 cents", at: at.AddMinutes(i))).ToList();
            ids.AddRange(batch.Select(e => e.EventId));
            await store.WriteBatchAsync(batch.Select(e => EventBuilder.Prepare(tenant.ProjectId, e, e.Timestamp)).ToList(), default);
        }
        Assert.Equal(ids.Count, await SearchCountAsync(api, tenant.ProjectId));

        var report = await _server.Services.GetRequiredService<RetentionSweep>().RunAsync(default);

        Assert.Equal(ids.Count, report.EventsArchived);
        Assert.Equal(0, await SearchCountAsync(api, tenant.ProjectId));
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/v1/events/{ids[0]:N}")).StatusCode);
        var objects = await OkAsync(await api.GetAsync($"/api/v1/projects/{tenant.ProjectId}/archive"));
        Assert.Equal(OldDays, objects.GetArrayLength());
        Assert.All(objects.EnumerateArray(), o => Assert.Equal("deleted", o.GetProperty("state").GetString()));
        // The objects are in s3rver, each with its day's events.
        using (var bucket = S3TestServer.Archive(_prefix))
        {
            foreach (var o in objects.EnumerateArray())
            {
                await using var stream = await bucket.OpenReadAsync(o.GetProperty("objectKey").GetString()!, default);
                Assert.NotNull(stream);
                await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
                var lines = (await new StreamReader(gzip).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(PerDay, lines.Length);
                Assert.Equal(PerDay, o.GetProperty("events").GetInt64());
            }
        }

        var from = DateOnly.FromDateTime(firstDay).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var to = DateOnly.FromDateTime(firstDay.AddDays(OldDays - 1)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var restored = await OkAsync(await api.PostAsJsonAsync($"/api/v1/projects/{tenant.ProjectId}/archive/restore", new { from, to }));

        Assert.Equal(OldDays, restored.GetProperty("objects").GetInt32());
        Assert.Equal(ids.Count, restored.GetProperty("restored").GetInt64());
        Assert.Equal(ids.Count, await SearchCountAsync(api, tenant.ProjectId));
        var one = await OkAsync(await api.GetAsync($"/api/v1/events/{ids[5]:N}"));
        Assert.Contains("ledger 1-1 off by 3 cents", one.GetProperty("event").GetRawText(), StringComparison.Ordinal);
        var issueEvents = await OkAsync(await api.GetAsync($"/api/v1/issues/{one.GetProperty("issueId").GetInt64()}/events?limit=100"));
        Assert.Equal(ids.Order(), issueEvents.GetProperty("items").EnumerateArray().Select(e => Guid.ParseExact(e.GetProperty("eventId").GetString()!, "N")).Order());
        // Another organization cannot restore or read them.
        var globex = await _server.CreateTenantAsync("globex");
        Assert.Equal(HttpStatusCode.NotFound, (await _server.ApiClient(globex.Token).PostAsJsonAsync($"/api/v1/projects/{tenant.ProjectId}/archive/restore", new { from, to })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.ApiClient(globex.Token).GetAsync($"/api/v1/events/{ids[5]:N}")).StatusCode);
    }

    private static async Task<int> SearchCountAsync(HttpClient api, long projectId)
    {
        var page = await OkAsync(await api.GetAsync($"/api/v1/projects/{projectId}/events?query=LedgerMismatchException&limit=100"));
        return page.GetProperty("items").GetArrayLength();
    }

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

public sealed class SqliteRestoreEndToEndTests() : RestoreEndToEndTests(StoreKind.Sqlite);

public sealed class PostgresRestoreEndToEndTests() : RestoreEndToEndTests(StoreKind.Postgres);

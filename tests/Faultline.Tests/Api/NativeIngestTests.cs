using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Api;

/// <summary>POST /api/v1/events end to end, on both engines.</summary>
public abstract class NativeIngestTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _tenant = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:MaxDecompressedBodyBytes"] = (256 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Faultline:Ingest:MaxEventsPerRequest"] = "20",
        });
        _tenant = await _app.CreateTenantAsync("acme");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> GetAsync(string path)
    {
        var response = await _app.ApiClient(_tenant.Token).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task An_event_is_acknowledged_with_its_id_and_can_be_read_back()
    {
        const string body = """
            {"event_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","level":"warning","message":"Disk almost full","environment":"production",
             "release":"2.4.1","tags":{"host":"db-1","retries":3},"user":{"id":"42","email":"ada@example.com"},
             "breadcrumbs":[{"category":"http","message":"GET /health","level":"info"}]}
            """;
        var response = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", Json(body));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ids = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ids");
        Assert.Equal("0f1e2d3c4b5a69788796a5b4c3d2e1f0", ids[0].GetString());

        var stored = await GetAsync("/api/v1/events/0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        Assert.Equal("warning", stored.GetProperty("level").GetString());
        Assert.Equal("Disk almost full", stored.GetProperty("message").GetString());
        var e = stored.GetProperty("event");
        Assert.Equal("3", e.GetProperty("tags").GetProperty("retries").GetString());
        Assert.Equal("ada@example.com", e.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("GET /health", e.GetProperty("breadcrumbs")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_array_and_ndjson_are_accepted_and_grouped()
    {
        const string frames = """{"frames":[{"module":"Shop","function":"Pay","lineno":LINE,"in_app":true}]}""";
        var array = "[" + string.Join(",", Enumerable.Range(1, 3).Select(i =>
            $$"""{"exception":[{"type":"PaymentDeclined","value":"card {{i}}","stacktrace":{{frames.Replace("LINE", (10 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}}}]}""")) + "]";
        var ndjson = "{\"message\":\"queue lag 120 s\"}\n\n{\"message\":\"queue lag 95 s\"}\n";

        var first = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", Json(array));
        var second = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var issues = (await GetAsync($"/api/v1/projects/{_tenant.ProjectId}/issues?sort=count")).GetProperty("items");
        Assert.Equal(2, issues.GetArrayLength());
        Assert.Equal(3, issues[0].GetProperty("count").GetInt64());
        Assert.StartsWith("PaymentDeclined", issues[0].GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, issues[1].GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task A_gzip_body_is_accepted()
    {
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("""{"message":"compressed hello"}"""));
        }
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        content.Headers.ContentType = new("application/json");

        var response = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var events = (await GetAsync($"/api/v1/projects/{_tenant.ProjectId}/events?query=compressed")).GetProperty("items");
        Assert.Equal("compressed hello", events[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_bad_field_is_a_400_naming_it_and_nothing_of_the_request_is_stored()
    {
        var response = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events",
            Json("""[{"message":"fine"},{"message":"bad frame","exception":[{"type":"X","stacktrace":{"frames":[{"lineno":"ten"}]}}]}]"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("events[1].exception[0].stacktrace.frames[0].lineno", problem.GetProperty("field").GetString());
        Assert.Contains("integer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await GetAsync($"/api/v1/projects/{_tenant.ProjectId}/events")).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest)]
    [InlineData("42", HttpStatusCode.BadRequest)]
    [InlineData("{\"message\":", HttpStatusCode.BadRequest)]
    [InlineData("{\"level\":\"loud\"}", HttpStatusCode.BadRequest)]
    [InlineData("{\"timestamp\":\"yesterday\"}", HttpStatusCode.BadRequest)]
    public async Task Malformed_bodies_get_a_4xx_with_a_message(string body, HttpStatusCode expected)
    {
        var response = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", Json(body));

        Assert.Equal(expected, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Missing_and_unknown_keys_are_401_and_403()
    {
        var anonymous = await _app.CreateClient().PostAsync("/api/v1/events", Json("{}"));
        var unknown = await _app.IngestClient("ffffffffffffffffffffffffffffffff").PostAsync("/api/v1/events", Json("{}"));
        var bearer = _app.CreateClient();
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", _tenant.PublicKey);
        var viaBearer = await bearer.PostAsync("/api/v1/events", Json("{\"message\":\"bearer works\"}"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, viaBearer.StatusCode);
    }

    [Fact]
    public async Task Size_limits_give_413_and_unknown_encodings_415()
    {
        var tooMany = "[" + string.Join(",", Enumerable.Repeat("{\"message\":\"x\"}", 21)) + "]";
        var bomb = new MemoryStream();
        await using (var gzip = new GZipStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            await gzip.WriteAsync(new byte[10 * 1024 * 1024]);
        }
        var bombContent = new ByteArrayContent(bomb.ToArray());
        bombContent.Headers.ContentEncoding.Add("gzip");
        var zstd = new ByteArrayContent([1, 2, 3]);
        zstd.Headers.ContentEncoding.Add("compress");

        var client = _app.IngestClient(_tenant.PublicKey);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/api/v1/events", Json(tooMany))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync("/api/v1/events", bombContent)).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/v1/events", zstd)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task A_retried_event_id_is_acknowledged_again_but_stored_once()
    {
        const string body = """{"event_id":"11111111111111111111111111111111","message":"retry me"}""";
        var client = _app.IngestClient(_tenant.PublicKey);

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/v1/events", Json(body))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/v1/events", Json(body))).StatusCode);

        var issues = (await GetAsync($"/api/v1/projects/{_tenant.ProjectId}/issues")).GetProperty("items");
        Assert.Equal(1, issues[0].GetProperty("count").GetInt64());
    }
}

public sealed class SqliteNativeIngestTests() : NativeIngestTests(StoreKind.Sqlite);

public sealed class PostgresNativeIngestTests() : NativeIngestTests(StoreKind.Postgres);

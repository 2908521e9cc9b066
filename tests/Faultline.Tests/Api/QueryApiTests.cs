using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Api;

/// <summary>The query API: tokens, organization scoping, triage, search errors, rate limits, OpenAPI.</summary>
public abstract class QueryApiTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "0.01",
            ["Faultline:Ingest:RateLimit:Burst"] = "5",
        });
        _acme = await _app.CreateTenantAsync("acme");
        _globex = await _app.CreateTenantAsync("globex");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task SendAsync(TestTenant tenant, string json)
    {
        var response = await _app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Without_a_valid_token_the_api_answers_401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateClient().GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient("flt_not-a-real-token").GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(_acme.PublicKey).GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task Another_organizations_project_issue_and_event_are_invisible()
    {
        await SendAsync(_globex, """{"event_id":"22222222222222222222222222222222","message":"globex secret"}""");
        var globexIssue = (await ReadAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/projects/{_globex.ProjectId}/issues")))
            .GetProperty("items")[0].GetProperty("id").GetInt64();
        var acme = _app.ApiClient(_acme.Token);

        var projects = await ReadAsync(await acme.GetAsync("/api/v1/projects"));
        Assert.Equal([_acme.ProjectId], projects.EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}/issues")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}/events?query=secret")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/issues/{globexIssue}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/issues/{globexIssue}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync("/api/v1/events/22222222222222222222222222222222")).StatusCode);
        var patch = await acme.PatchAsJsonAsync($"/api/v1/issues/{globexIssue}", new { status = "resolved" });
        Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        var stillUnresolved = await ReadAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/issues/{globexIssue}"));
        Assert.Equal("unresolved", stillUnresolved.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Resolving_moves_an_issue_out_of_the_unresolved_list_and_a_new_event_regresses_it()
    {
        const string error = """{"exception":[{"type":"SocketException","value":"refused","stacktrace":{"frames":[{"module":"Db","function":"Connect","in_app":true}]}}]}""";
        await SendAsync(_acme, error);
        var api = _app.ApiClient(_acme.Token);
        var issue = (await ReadAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/issues?status=unresolved"))).GetProperty("items")[0];
        var id = issue.GetProperty("id").GetInt64();

        var resolved = await ReadAsync(await api.PatchAsJsonAsync($"/api/v1/issues/{id}", new { status = "resolved", reviewed = true }));
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        Assert.True(resolved.GetProperty("reviewed").GetBoolean());
        Assert.Equal(0, (await ReadAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/issues?query=is:unresolved"))).GetProperty("items").GetArrayLength());

        await SendAsync(_acme, error);

        var regressed = await ReadAsync(await api.GetAsync($"/api/v1/issues/{id}"));
        Assert.Equal("unresolved", regressed.GetProperty("status").GetString());
        Assert.True(regressed.GetProperty("regressed").GetBoolean());
        Assert.Equal(2, regressed.GetProperty("count").GetInt64());
        var events = await ReadAsync(await api.GetAsync($"/api/v1/issues/{id}/events"));
        Assert.Equal(2, events.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Bad_queries_and_bodies_are_400_with_a_reason()
    {
        var api = _app.ApiClient(_acme.Token);

        var badLevel = await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/issues?query=level:loud");
        var badSort = await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/issues?sort=random");
        var badCursor = await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/issues?cursor=abc");
        var badLimit = await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/events?limit=100000");
        var badStatus = await api.PatchAsJsonAsync("/api/v1/issues/1", new { status = "deleted" });
        var badJson = await api.PatchAsync("/api/v1/issues/1", new StringContent("{", Encoding.UTF8, "application/json"));

        foreach (var response in new[] { badLevel, badSort, badCursor, badLimit, badStatus, badJson })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        var problem = await badLevel.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("loud", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(6, problem.GetProperty("position").GetInt32());
    }

    [Theory]
    [InlineData("issues?since=yesterday", "since")]
    [InlineData("issues?limit=many", "limit")]
    [InlineData("events?until=2026-13-45", "until")]
    [InlineData("stats?interval=often", "interval")]
    public async Task A_parameter_the_framework_cannot_bind_is_400_naming_the_parameter(string pathAndQuery, string parameter)
    {
        var response = await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/projects/{_acme.ProjectId}/{pathAndQuery}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(parameter, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_typed_body_that_is_not_json_is_400_with_a_reason()
    {
        var response = await _app.ApiClient(_acme.Token).PatchAsync("/api/v1/issues/1", new StringContent("{", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_key_over_its_rate_limit_gets_429_with_retry_after()
    {
        var client = _app.IngestClient(_acme.PublicKey);
        var batch = "[" + string.Join(",", Enumerable.Repeat("{\"message\":\"burst\"}", 5)) + "]";

        var first = await client.PostAsync("/api/v1/events", new StringContent(batch, Encoding.UTF8, "application/json"));
        var second = await client.PostAsync("/api/v1/events", new StringContent("{\"message\":\"one more\"}", Encoding.UTF8, "application/json"));
        var otherKey = await _app.IngestClient(_globex.PublicKey).PostAsync("/api/v1/events", new StringContent("{\"message\":\"other\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.True(second.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Accepted, otherKey.StatusCode);
    }

    [Fact]
    public async Task The_project_shows_its_dsn()
    {
        var project = await ReadAsync(await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/projects/{_acme.ProjectId}"));

        var key = project.GetProperty("keys")[0];
        Assert.Equal(_acme.PublicKey, key.GetProperty("publicKey").GetString());
        Assert.Equal($"http://{_acme.PublicKey}@localhost:8100/{_acme.ProjectId}", key.GetProperty("dsn").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_ingest_and_query_endpoints()
    {
        var document = await ReadAsync(await _app.CreateClient().GetAsync("/api/openapi.json"));

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/events", out var ingest));
        var schema = ingest.GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.True(schema.GetProperty("properties").TryGetProperty("exception", out _));
        Assert.True(schema.GetProperty("properties").TryGetProperty("event_id", out _));
        Assert.False(schema.TryGetProperty("required", out _));
        Assert.True(paths.TryGetProperty("/api/v1/projects/{projectId}/issues", out _));
        Assert.True(paths.TryGetProperty("/api/v1/issues/{issueId}", out var issue));
        Assert.True(issue.TryGetProperty("patch", out _));
    }
}

public sealed class SqliteQueryApiTests() : QueryApiTests(StoreKind.Sqlite);

public sealed class PostgresQueryApiTests() : QueryApiTests(StoreKind.Postgres);

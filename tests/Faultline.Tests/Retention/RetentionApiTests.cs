using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Retention;

/// <summary>/api/v1/.../retention and /archive: defaults, overrides, bad values, organization scoping.</summary>
public abstract class RetentionApiTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Retention:HotDays"] = "30",
            ["Faultline:Retention:ArchiveDays"] = "365",
            ["Faultline:Retention:SweepEnabled"] = "false",
            ["Faultline:Retention:Archive:LocalPath"] = Path.Combine(Path.GetTempPath(), "faultline-tests", "api-archive-" + Guid.NewGuid().ToString("N")),
        });
        _acme = await _app.CreateTenantAsync("acme");
        _globex = await _app.CreateTenantAsync("globex");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_project_shows_the_server_default_until_its_organization_or_itself_sets_one()
    {
        var api = _app.ApiClient(_acme.Token);
        var initial = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention"));
        Assert.Equal("server", initial.GetProperty("source").GetString());
        Assert.Equal(30, initial.GetProperty("effective").GetProperty("hotDays").GetInt32());
        Assert.Equal(365, initial.GetProperty("effective").GetProperty("archiveDays").GetInt32());

        var organizationId = (await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}"))).GetProperty("organizationId").GetInt64();
        await OkAsync(await api.PutAsJsonAsync($"/api/v1/organizations/{organizationId}/retention", new { hotDays = 14, archiveDays = 90 }));
        var inherited = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention"));
        Assert.Equal("organization", inherited.GetProperty("source").GetString());
        Assert.Equal(14, inherited.GetProperty("effective").GetProperty("hotDays").GetInt32());

        var own = await OkAsync(await api.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/retention",
            new { hotDays = 7, keepUnreviewed = true, keepMinimumLevel = "critical" }));
        Assert.Equal("project", own.GetProperty("source").GetString());
        var effective = own.GetProperty("effective");
        Assert.Equal(7, effective.GetProperty("hotDays").GetInt32());
        Assert.Equal(90, effective.GetProperty("archiveDays").GetInt32()); // left out: the inherited value
        Assert.Equal("fatal", effective.GetProperty("keepMinimumLevel").GetString());

        var cleared = await OkAsync(await api.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/retention"));
        Assert.Equal("organization", cleared.GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("""{"hotDays":0}""", "hotDays")]
    [InlineData("""{"hotDays":100000}""", "hotDays")]
    [InlineData("""{"archiveDays":-30}""", "archiveDays")]
    [InlineData("""{"keepMinimumLevel":"loud"}""", "keepMinimumLevel")]
    public async Task Bad_policy_values_are_400_with_a_message(string body, string field)
    {
        var response = await _app.ApiClient(_acme.Token).PutAsync($"/api/v1/projects/{_acme.ProjectId}/retention",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_bodies_and_dates_are_4xx_not_500()
    {
        var api = _app.ApiClient(_acme.Token);
        var notJson = await api.PutAsync($"/api/v1/projects/{_acme.ProjectId}/retention", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        var backwards = await api.PostAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/archive/restore", new { from = "2026-02-01", to = "2026-01-01" });
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        var missing = await api.PostAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/archive/restore", new { from = "2026-02-01" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var badDate = await api.PostAsync($"/api/v1/projects/{_acme.ProjectId}/archive/restore",
            new StringContent("""{"from":"yesterday","to":"2026-01-01"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badDate.StatusCode);
    }

    [Fact]
    public async Task Another_organizations_policy_and_archive_are_invisible()
    {
        var acme = _app.ApiClient(_acme.Token);
        var globexOrganization = (await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/projects/{_globex.ProjectId}"))).GetProperty("organizationId").GetInt64();
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}/retention")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PutAsJsonAsync($"/api/v1/projects/{_globex.ProjectId}/retention", new { hotDays = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.DeleteAsync($"/api/v1/projects/{_globex.ProjectId}/retention")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PutAsJsonAsync($"/api/v1/organizations/{globexOrganization}/retention", new { hotDays = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}/archive")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PostAsJsonAsync($"/api/v1/projects/{_globex.ProjectId}/archive/restore", new { from = "2026-01-01", to = "2026-01-02" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateClient().GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention")).StatusCode);
        // globex's own policy is untouched.
        var globex = await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/projects/{_globex.ProjectId}/retention"));
        Assert.Equal("server", globex.GetProperty("source").GetString());
    }

    [Fact]
    public async Task An_empty_archive_lists_nothing_and_restores_nothing()
    {
        var api = _app.ApiClient(_acme.Token);
        var list = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/archive"));
        Assert.Equal(0, list.GetArrayLength());
        var report = await OkAsync(await api.PostAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/archive/restore", new { from = "2026-01-01", to = "2026-01-31" }));
        Assert.Equal(0, report.GetProperty("restored").GetInt64());
    }
}

public sealed class SqliteRetentionApiTests() : RetentionApiTests(StoreKind.Sqlite);

public sealed class PostgresRetentionApiTests() : RetentionApiTests(StoreKind.Postgres);

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Events;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>A new user with an API token, added to acme with a role by acme's owner; returns the token.</summary>
    private async Task<string> AcmeUserAsync(string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
        var token = await _app.Accounts.CreateApiTokenAsync(email, "tests", default);
        var added = await _app.ApiClient(_acme.Token).PostAsJsonAsync($"/api/v1/organizations/{await AcmeOrganizationAsync()}/members", new { email, role });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        return token;
    }

    private async Task<long> AcmeOrganizationAsync() =>
        (await OkAsync(await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/projects/{_acme.ProjectId}"))).GetProperty("organizationId").GetInt64();

    [Fact]
    public async Task A_plain_member_reads_policies_but_only_owners_and_admins_change_them()
    {
        var organization = await AcmeOrganizationAsync();
        var member = _app.ApiClient(await AcmeUserAsync("member"));
        await OkAsync(await member.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention"));
        await OkAsync(await member.GetAsync($"/api/v1/organizations/{organization}/retention"));
        foreach (var refused in new[]
        {
            await member.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/retention", new { hotDays = 1 }),
            await member.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/retention"),
            await member.PutAsJsonAsync($"/api/v1/organizations/{organization}/retention", new { hotDays = 1 }),
            await member.DeleteAsync($"/api/v1/organizations/{organization}/retention"),
            await member.PostAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/archive/restore", new { from = "2026-01-01", to = "2026-01-02" }),
        })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Only owners and admins", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Members still list the archive (reading is open to them).
        await OkAsync(await member.GetAsync($"/api/v1/projects/{_acme.ProjectId}/archive"));
        Assert.Equal("server", (await OkAsync(await member.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention"))).GetProperty("source").GetString());

        var admin = _app.ApiClient(await AcmeUserAsync("admin"));
        Assert.Equal(9, (await OkAsync(await admin.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/retention", new { hotDays = 9 })))
            .GetProperty("effective").GetProperty("hotDays").GetInt32());
        await OkAsync(await admin.PutAsJsonAsync($"/api/v1/organizations/{organization}/retention", new { hotDays = 20 }));
        await OkAsync(await admin.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/retention"));
    }

    [Fact]
    public async Task Kept_issues_are_listed_with_their_old_events_and_are_flagged_and_cleared_through_the_api()
    {
        // Old events written straight to the store (ingest stamps the current time): a fatal issue (kept by
        // "keep unreviewed" at level fatal), a warning and an error (not kept), and one new error event.
        var store = _app.Services.GetRequiredService<IFaultlineStore>();
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        var fatalEvent = EventBuilder.Exception("OutOfMemoryException", "heap", at: old, level: EventLevel.Fatal);
        var warningEvent = EventBuilder.Message("disk almost full", at: old, level: EventLevel.Warning);
        var errorEvent = EventBuilder.Exception("TimeoutException", "slow", at: old);
        var written = await store.WriteBatchAsync(
        [
            EventBuilder.Prepare(_acme.ProjectId, fatalEvent, old),
            EventBuilder.Prepare(_acme.ProjectId, EventBuilder.Exception("OutOfMemoryException", "heap", at: old, level: EventLevel.Fatal), old.AddMinutes(1)),
            EventBuilder.Prepare(_acme.ProjectId, warningEvent, old),
            EventBuilder.Prepare(_acme.ProjectId, errorEvent, DateTimeOffset.UtcNow),
        ], default);
        long IssueOf(FaultlineEvent e) => written.Stored.Single(s => s.Event.Event.EventId == e.EventId).IssueId;
        var (fatal, warning, error) = (IssueOf(fatalEvent), IssueOf(warningEvent), IssueOf(errorEvent));
        var api = _app.ApiClient(_acme.Token);

        var kept = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept"));
        var only = Assert.Single(kept.GetProperty("items").EnumerateArray());
        Assert.Equal(fatal, only.GetProperty("issueId").GetInt64());
        Assert.Equal("unreviewed_level", only.GetProperty("reason").GetString());
        Assert.Equal(2, only.GetProperty("heldEvents").GetInt64());
        Assert.False(only.GetProperty("keepUntilReviewed").GetBoolean());

        // Flag the warning: it is kept too, until it is reviewed or the flag is cleared.
        var flagged = await OkAsync(await api.PutAsJsonAsync($"/api/v1/issues/{warning}/retention", new { keepUntilReviewed = true }));
        Assert.True(flagged.GetProperty("kept").GetBoolean());
        Assert.Equal("keep_until_reviewed", flagged.GetProperty("reason").GetString());
        Assert.False((await OkAsync(await api.GetAsync($"/api/v1/issues/{error}/retention"))).GetProperty("kept").GetBoolean());
        var firstPage = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept?limit=1"));
        var cursor = firstPage.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var secondPage = await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept?limit=1&cursor={cursor}"));
        Assert.Equal(new[] { fatal, warning }.Order(), firstPage.GetProperty("items").EnumerateArray().Concat(secondPage.GetProperty("items").EnumerateArray())
            .Select(i => i.GetProperty("issueId").GetInt64()).Order());
        Assert.Equal(JsonValueKind.Null, secondPage.GetProperty("nextCursor").ValueKind);

        // Marking the fatal issue reviewed (the issues API) and clearing the flag empty the list.
        await OkAsync(await api.PatchAsJsonAsync($"/api/v1/issues/{fatal}", new { reviewed = true }));
        Assert.Equal("keep_until_reviewed", (await OkAsync(await api.GetAsync($"/api/v1/issues/{warning}/retention"))).GetProperty("reason").GetString());
        var cleared = await OkAsync(await api.PutAsJsonAsync($"/api/v1/issues/{warning}/retention", new { keepUntilReviewed = false }));
        Assert.False(cleared.GetProperty("kept").GetBoolean());
        Assert.Empty((await OkAsync(await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept"))).GetProperty("items").EnumerateArray());

        // Bad input is a 400; another organization's issues and project are a 404.
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsJsonAsync($"/api/v1/issues/{warning}/retention", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept?cursor=nonsense")).StatusCode);
        var globex = _app.ApiClient(_globex.Token);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/api/v1/issues/{warning}/retention")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.PutAsJsonAsync($"/api/v1/issues/{warning}/retention", new { keepUntilReviewed = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await globex.GetAsync($"/api/v1/projects/{_acme.ProjectId}/retention/kept")).StatusCode);
        Assert.False((await OkAsync(await api.GetAsync($"/api/v1/issues/{warning}/retention"))).GetProperty("keepUntilReviewed").GetBoolean());
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

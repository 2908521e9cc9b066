using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Tests.Dashboard;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Retention;

/// <summary>The dashboard's retention page: shows the policy, saves a project policy, refuses bad values, and is a 404 for another organization.</summary>
public abstract class RetentionPageTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;
    private DashboardSession _browser = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?> { ["Faultline:Retention:SweepEnabled"] = "false" });
        string email;
        (_acme, email) = await DashboardTenant.CreateAsync(_app, "acme");
        (_globex, _) = await DashboardTenant.CreateAsync(_app, "globex");
        _browser = await DashboardSession.SignedInAsync(_app, email);
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_page_shows_the_policy_and_saves_a_project_policy()
    {
        var page = $"/projects/{_acme.ProjectId}/retention";
        var (status, html) = await _browser.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<strong>30 days</strong>", html, StringComparison.Ordinal);
        Assert.Contains("Nothing archived yet.", html, StringComparison.Ordinal);

        var saved = await _browser.PostFormAsync(page, "retention", new()
        {
            ["action"] = "save", ["hotDays"] = "14", ["archiveDays"] = "90", ["keepUnreviewed"] = "true", ["keepMinimumLevel"] = "error",
        });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var policy = await _app.ApiClient(_acme.Token).GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_acme.ProjectId}/retention");
        Assert.Equal("project", policy.GetProperty("source").GetString());
        Assert.Equal(14, policy.GetProperty("effective").GetProperty("hotDays").GetInt32());
        Assert.Equal("error", policy.GetProperty("effective").GetProperty("keepMinimumLevel").GetString());

        var bad = await _browser.PostFormAsync(page, "retention", new() { ["action"] = "save", ["hotDays"] = "0", ["archiveDays"] = "90", ["keepMinimumLevel"] = "error" });
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("hotDays must be between 1 and", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var inherit = await _browser.PostFormAsync(page, "retention", new() { ["action"] = "inherit" });
        Assert.Equal(HttpStatusCode.Redirect, inherit.StatusCode);
        policy = await _app.ApiClient(_acme.Token).GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_acme.ProjectId}/retention");
        Assert.Equal("server", policy.GetProperty("source").GetString());
    }

    [Fact]
    public async Task A_plain_member_sees_the_policy_read_only_and_a_post_is_refused()
    {
        var email = $"member-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, DashboardTenant.Password, isAdmin: false, default);
        var owner = _app.ApiClient(_acme.Token);
        var organization = (await owner.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_acme.ProjectId}")).GetProperty("organizationId").GetInt64();
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync($"/api/v1/organizations/{organization}/members", new { email, role = "member" })).StatusCode);
        using var member = await DashboardSession.SignedInAsync(_app, email);
        var page = $"/projects/{_acme.ProjectId}/retention";

        var (status, html) = await member.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<strong>30 days</strong>", html, StringComparison.Ordinal);
        Assert.Contains("Only owners and admins", html, StringComparison.Ordinal);
        Assert.Matches("<button[^>]*value=\"save\"[^>]*disabled", html);

        var refused = await member.PostFormAsync(page, "retention", new()
        {
            ["action"] = "save", ["hotDays"] = "3", ["archiveDays"] = "30", ["keepUnreviewed"] = "true", ["keepMinimumLevel"] = "error",
        });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Only owners and admins", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var policy = await owner.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_acme.ProjectId}/retention");
        Assert.Equal("server", policy.GetProperty("source").GetString());
    }

    [Fact]
    public async Task Another_organizations_retention_page_is_not_found()
    {
        var (status, _) = await _browser.GetAsync($"/projects/{_globex.ProjectId}/retention");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }
}

public sealed class SqliteRetentionPageTests() : RetentionPageTests(StoreKind.Sqlite);

public sealed class PostgresRetentionPageTests() : RetentionPageTests(StoreKind.Postgres);

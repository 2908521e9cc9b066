using System.Net;
using System.Net.Http.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Dashboard;

/// <summary>First-run setup, cookie sign-in and sign-out, and that the cookie never authorizes the REST API.</summary>
public abstract class SignInTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;

    public async Task InitializeAsync() => _app = await FaultlineApp.StartAsync(kind);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Setup_creates_the_first_admin_and_a_project_then_disappears()
    {
        using var browser = DashboardSession.Create(_app);
        var (status, html) = await browser.GetAsync("/setup");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Create the first administrator", html);

        var response = await browser.PostFormAsync("/setup", "setup", new()
        {
            ["Input.Email"] = "admin@example.com",
            ["Input.Password"] = "correct horse battery",
            ["Input.Repeat"] = "correct horse battery",
            ["Input.Organization"] = "Acme",
            ["Input.Project"] = "Web",
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        // Signed in at once, and sent to the new project's issues with the DSN to start with.
        var home = await browser.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        (status, html) = await browser.GetAsync(home.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("No issues yet", html);
        Assert.Contains("Faultline.init({ dsn:", html);

        using var stranger = DashboardSession.Create(_app);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("/setup")).Status);
        var again = await stranger.Client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "setup" }));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode); // no antiforgery token
        Assert.Null(await _app.Accounts.VerifyPasswordAsync("other@example.com", "correct horse battery", default));
    }

    [Fact]
    public async Task Sign_in_with_a_wrong_password_fails_and_a_right_one_opens_the_dashboard_until_sign_out()
    {
        var (tenant, email) = await DashboardTenant.CreateAsync(_app, "acme");
        using var browser = DashboardSession.Create(_app);

        var anonymous = await browser.Client.GetAsync($"/projects/{tenant.ProjectId}/issues");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/login", anonymous.Headers.Location!.PathAndQuery);

        var wrong = await browser.PostFormAsync("/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = "not the password" });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Wrong email or password", await wrong.Content.ReadAsStringAsync());

        var right = await browser.PostFormAsync($"/login?ReturnUrl=%2Fprojects%2F{tenant.ProjectId}%2Fissues", "login",
            new() { ["Input.Email"] = email, ["Input.Password"] = "a long enough password" });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal($"/projects/{tenant.ProjectId}/issues", right.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
        var (status, html) = await browser.GetAsync($"/projects/{tenant.ProjectId}/issues");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(email, html);

        // The session cookie is not an API credential: REST calls need a token (no CSRF through the API).
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.Client.GetAsync("/api/v1/projects")).StatusCode);

        var signOut = await browser.PostFormAsync("/logout", null, [], tokenFrom: $"/projects/{tenant.ProjectId}/issues");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync($"/projects/{tenant.ProjectId}/issues")).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_ends_the_other_sessions_and_keeps_this_one()
    {
        var (tenant, email) = await DashboardTenant.CreateAsync(_app, "acme");
        var issues = $"/projects/{tenant.ProjectId}/issues";
        using var laptop = await DashboardSession.SignedInAsync(_app, email);
        using var phone = await DashboardSession.SignedInAsync(_app, email);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync(issues)).Status);

        const string newPassword = "a brand new passphrase";
        var changed = await laptop.PostFormAsync("/account", "password", new() { ["current"] = DashboardTenant.Password, ["new"] = newPassword, ["repeat"] = newPassword });
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync(issues)).Status);
        var ended = await phone.Client.GetAsync(issues);
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.StartsWith("/login", ended.Headers.Location!.PathAndQuery);

        // A change through the API (token, no cookie) ends every session, the laptop's too; signing in again works.
        var api = _app.ApiClient(tenant.Token);
        var viaApi = await api.PutAsJsonAsync("/api/v1/account/password", new { currentPassword = newPassword, newPassword = "yet another passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, viaApi.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await laptop.Client.GetAsync(issues)).StatusCode);
        using var again = await DashboardSession.SignedInAsync(_app, email, "yet another passphrase");
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync(issues)).Status);
    }

    [Fact]
    public async Task Return_urls_leading_off_site_are_ignored()
    {
        var (_, email) = await DashboardTenant.CreateAsync(_app, "acme");
        using var browser = DashboardSession.Create(_app);
        var response = await browser.PostFormAsync("/login?ReturnUrl=%2F%2Fevil.example%2F", "login",
            new() { ["Input.Email"] = email, ["Input.Password"] = "a long enough password" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("evil", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Sign_out_without_an_antiforgery_token_is_refused()
    {
        using var browser = DashboardSession.Create(_app);
        var response = await browser.Client.PostAsync("/logout", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}

public sealed class SqliteSignInTests() : SignInTests(StoreKind.Sqlite);

public sealed class PostgresSignInTests() : SignInTests(StoreKind.Postgres);

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Faultline.Tests.Dashboard;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Accounts;

/// <summary>
/// The project settings and account pages through the real server with a signed-in cookie: forms
/// with antiforgery tokens, post/redirect/get, refusals shown with a 4xx, tenancy by URL editing.
/// </summary>
public abstract partial class SettingsPagesTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private string _acmeEmail = null!;
    private TestTenant _globex = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind);
        (_acme, _acmeEmail) = await DashboardTenant.CreateAsync(_app, "acme");
        (_globex, _) = await DashboardTenant.CreateAsync(_app, "globex");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private string Settings => $"/projects/{_acme.ProjectId}/settings";

    private async Task<JsonElement> KeysAsync(TestTenant tenant) =>
        await _app.ApiClient(tenant.Token).GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}/keys");

    private static void AssertRedirect(HttpResponseMessage response, string location) =>
        Assert.True(response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.EndsWith(location, StringComparison.Ordinal),
            $"expected a redirect to {location}, got {(int)response.StatusCode} {response.Headers.Location}");

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}");
        Assert.Contains(message, WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    /// <summary>A user of acme with this role, signed in.</summary>
    private async Task<(long UserId, string Email, DashboardSession Browser)> AcmeUserAsync(string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, DashboardTenant.Password, isAdmin: false, default);
        var organization = (await _app.ApiClient(_acme.Token).GetFromJsonAsync<JsonElement>("/api/v1/organizations"))[0].GetProperty("id").GetInt64();
        var added = await _app.ApiClient(_acme.Token).PostAsJsonAsync($"/api/v1/organizations/{organization}/members", new { email, role });
        var userId = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userId").GetInt64();
        return (userId, email, await DashboardSession.SignedInAsync(_app, email));
    }

    [Fact]
    public async Task An_owner_sees_the_dsn_creates_and_revokes_keys_and_sets_a_rate_limit()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);

        var (status, html) = await browser.GetAsync(Settings);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"http://{_acme.PublicKey}@localhost:8100/{_acme.ProjectId}", html);
        Assert.Contains("data-copy=", html);

        AssertRedirect(await browser.PostFormAsync(Settings, "create-key", []), "?done=key-created");
        (_, html) = await browser.GetAsync(Settings + "?done=key-created");
        Assert.Contains("Key created.", html);
        var keyIds = KeyRow().Matches(html).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(2, keyIds.Count);

        var first = (await KeysAsync(_acme))[0].GetProperty("id").GetInt64();
        AssertRedirect(await browser.PostFormAsync(Settings, $"revoke-{first}", []), "?done=key-revoked");
        var ingest = await _app.IngestClient(_acme.PublicKey).PostAsync("/api/v1/events", new StringContent("""{"message":"x"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, ingest.StatusCode);
        (_, html) = await browser.GetAsync(Settings);
        Assert.Contains("key-revoked", html);

        var second = keyIds.Single(id => id != first);
        AssertRedirect(await browser.PostFormAsync(Settings, $"rate-{second}", new() { ["rate"] = "2.5" }), "?done=rate-saved");
        Assert.Equal(2.5, (await KeysAsync(_acme))[1].GetProperty("rateLimitPerSecond").GetDouble());
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, $"rate-{second}", new() { ["rate"] = "fast" }), HttpStatusCode.BadRequest, "'fast' is not a number");
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, $"rate-{second}", new() { ["rate"] = "0" }), HttpStatusCode.BadRequest, "eventsPerSecond must be between");
        AssertRedirect(await browser.PostFormAsync(Settings, $"rate-{second}", new() { ["rate"] = "" }), "?done=rate-saved");
        Assert.Equal(JsonValueKind.Null, (await KeysAsync(_acme))[1].GetProperty("rateLimitPerSecond").ValueKind);
    }

    [Fact]
    public async Task An_owner_adds_changes_and_removes_members_and_cannot_remove_the_last_owner()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var email = $"new-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, DashboardTenant.Password, isAdmin: false, default);

        await AssertRefusedAsync(await browser.PostFormAsync(Settings, "add-member", new() { ["email"] = "not-an-email", ["role"] = "member" }), HttpStatusCode.BadRequest, "is not an email address");
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, "add-member", new() { ["email"] = "nobody@acme.test", ["role"] = "member" }), HttpStatusCode.BadRequest, "No Faultline user has email");
        AssertRedirect(await browser.PostFormAsync(Settings, "add-member", new() { ["email"] = email, ["role"] = "admin" }), "?done=member-added");
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, "add-member", new() { ["email"] = email, ["role"] = "member" }), HttpStatusCode.Conflict, "already is a member");

        var (_, html) = await browser.GetAsync(Settings);
        Assert.Contains(email, html);
        var rows = MemberRow().Matches(html).Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(2, rows.Count);
        var owner = (await _app.ApiClient(_acme.Token).GetFromJsonAsync<JsonElement>("/api/v1/account")).GetProperty("id").GetInt64();
        var added = rows.Single(id => id != owner);

        AssertRedirect(await browser.PostFormAsync(Settings, $"role-{added}", new() { ["role"] = "member" }), "?done=role-saved");
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, $"role-{owner}", new() { ["role"] = "admin" }), HttpStatusCode.Conflict, "last owner");
        await AssertRefusedAsync(await browser.PostFormAsync(Settings, $"remove-{owner}", []), HttpStatusCode.Conflict, "last owner");
        AssertRedirect(await browser.PostFormAsync(Settings, $"remove-{added}", []), "?done=member-removed");
        (_, html) = await browser.GetAsync(Settings);
        Assert.DoesNotContain(email, html);
    }

    [Fact]
    public async Task A_member_sees_the_dsn_and_members_but_no_forms_and_a_forged_post_changes_nothing()
    {
        var (_, _, browser) = await AcmeUserAsync("member");
        using var _ = browser;

        var (status, html) = await browser.GetAsync(Settings);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(_acme.PublicKey, html);
        Assert.Contains(_acmeEmail, html);
        Assert.DoesNotContain("Create a key", html);
        Assert.DoesNotContain("Add member", html);
        Assert.DoesNotContain("value=\"revoke-", html);

        var keyId = (await KeysAsync(_acme))[0].GetProperty("id").GetInt64();
        var forged = await browser.PostFormAsync(Settings, $"revoke-{keyId}", []);
        var created = await browser.PostFormAsync(Settings, "create-key", []);

        Assert.NotEqual(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.NotEqual(HttpStatusCode.Redirect, created.StatusCode);
        var keys = await KeysAsync(_acme);
        Assert.Single(keys.EnumerateArray());
        Assert.Equal(JsonValueKind.Null, keys[0].GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Another_organizations_settings_are_a_404_even_by_editing_the_url_or_posting()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);
        var globexSettings = $"/projects/{_globex.ProjectId}/settings";

        var (status, html) = await browser.GetAsync(globexSettings);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.DoesNotContain(_globex.PublicKey, html);

        var keyId = (await KeysAsync(_globex))[0].GetProperty("id").GetInt64();
        var posted = await browser.PostFormAsync(globexSettings, $"revoke-{keyId}", [], tokenFrom: Settings);
        var created = await browser.PostFormAsync(globexSettings, "create-key", [], tokenFrom: Settings);
        // The page renders no forms for a project the user cannot see, so the post has no handler: refused.
        Assert.True((int)posted.StatusCode is >= 400 and < 500, $"revoke answered {(int)posted.StatusCode}");
        Assert.True((int)created.StatusCode is >= 400 and < 500, $"create answered {(int)created.StatusCode}");
        var keys = await KeysAsync(_globex);
        Assert.Single(keys.EnumerateArray());
        Assert.Equal(JsonValueKind.Null, keys[0].GetProperty("revokedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync("/projects/999999/settings")).Status);
    }

    [Fact]
    public async Task A_token_created_on_the_account_page_is_shown_once_works_and_stops_when_revoked()
    {
        using var browser = await DashboardSession.SignedInAsync(_app, _acmeEmail);

        var response = await browser.PostFormAsync("/account", "create-token", new() { ["name"] = "deploy bot" });
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        var token = TokenValue().Match(html).Groups[1].Value;
        Assert.StartsWith("flt_", token, StringComparison.Ordinal);
        Assert.Contains("not shown again", html);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(token).GetAsync("/api/v1/projects")).StatusCode);

        var (_, again) = await browser.GetAsync("/account");
        Assert.DoesNotContain(token, again, StringComparison.Ordinal);
        Assert.Contains("deploy bot", again);
        var id = TokenRow().Matches(again).Select(m => long.Parse(m.Groups[1].Value)).Max();

        await AssertRefusedAsync(await browser.PostFormAsync("/account", "create-token", new() { ["name"] = "" }), HttpStatusCode.BadRequest, "name must have 1 to 100 characters");
        AssertRedirect(await browser.PostFormAsync("/account", $"revoke-token-{id}", []), "/account?done=token-revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.ApiClient(token).GetAsync("/api/v1/projects")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(_acme.Token).GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task The_password_changes_only_with_the_current_one_and_then_signs_in()
    {
        var (_, email, browser) = await AcmeUserAsync("member");
        using var _ = browser;
        const string newPassword = "a brand new passphrase";

        await AssertRefusedAsync(await browser.PostFormAsync("/account", "password", new() { ["current"] = "wrong password!!", ["new"] = newPassword, ["repeat"] = newPassword }),
            HttpStatusCode.BadRequest, "The current password is wrong.");
        await AssertRefusedAsync(await browser.PostFormAsync("/account", "password", new() { ["current"] = DashboardTenant.Password, ["new"] = newPassword, ["repeat"] = "something else" }),
            HttpStatusCode.BadRequest, "The two new passwords differ.");
        await AssertRefusedAsync(await browser.PostFormAsync("/account", "password", new() { ["current"] = DashboardTenant.Password, ["new"] = "short", ["repeat"] = "short" }),
            HttpStatusCode.BadRequest, "at least 12 characters");
        AssertRedirect(await browser.PostFormAsync("/account", "password", new() { ["current"] = DashboardTenant.Password, ["new"] = newPassword, ["repeat"] = newPassword }),
            "/account?done=password-changed");

        using var fresh = DashboardSession.Create(_app);
        var old = await fresh.PostFormAsync("/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = DashboardTenant.Password });
        Assert.Contains("Wrong email or password", await old.Content.ReadAsStringAsync());
        using var signedIn = await DashboardSession.SignedInAsync(_app, email, newPassword);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/account")).Status);
    }

    [Fact]
    public async Task Signed_out_visitors_are_sent_to_sign_in()
    {
        using var browser = DashboardSession.Create(_app);

        foreach (var path in new[] { "/account", Settings })
        {
            var response = await browser.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [GeneratedRegex("data-key-id=\"(\\d+)\"")]
    private static partial Regex KeyRow();

    [GeneratedRegex("data-user-id=\"(\\d+)\"")]
    private static partial Regex MemberRow();

    [GeneratedRegex("data-token-id=\"(\\d+)\"")]
    private static partial Regex TokenRow();

    [GeneratedRegex("value=\"(flt_[A-Za-z0-9_-]+)\"")]
    private static partial Regex TokenValue();
}

public sealed class SqliteSettingsPagesTests() : SettingsPagesTests(StoreKind.Sqlite);

public sealed class PostgresSettingsPagesTests() : SettingsPagesTests(StoreKind.Postgres);

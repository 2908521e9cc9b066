using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Accounts;

/// <summary>Projects, keys, rate limits, members and the own account through the HTTP API, on both engines.</summary>
public abstract class AccountsApiTests(StoreKind kind) : IAsyncLifetime
{
    private const string Password = "a long enough password";
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;
    private long _acmeOrg;
    private long _globexOrg;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:PublicUrl"] = "https://errors.example.com:8443",
        });
        _acme = await _app.CreateTenantAsync("acme");
        _globex = await _app.CreateTenantAsync("globex");
        _acmeOrg = await OrganizationIdAsync(_acme.Token);
        _globexOrg = await OrganizationIdAsync(_globex.Token);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<long> OrganizationIdAsync(string token) =>
        (await OkAsync(await _app.ApiClient(token).GetAsync("/api/v1/organizations")))[0].GetProperty("id").GetInt64();

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a ProblemDetails answer with this status whose detail mentions <paramref name="detail"/>.</summary>
    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A new user with an API token, added to acme with a role by acme's owner.</summary>
    private async Task<(long UserId, string Email, string Token)> AcmeUserAsync(string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, Password, isAdmin: false, default);
        var token = await _app.Accounts.CreateApiTokenAsync(email, "tests", default);
        var added = await OkAsync(await _app.ApiClient(_acme.Token).PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/members", new { email, role }), HttpStatusCode.Created);
        return (added.GetProperty("userId").GetInt64(), email, token);
    }

    private Task<HttpResponseMessage> IngestAsync(string publicKey) =>
        _app.IngestClient(publicKey).PostAsync("/api/v1/events", new StringContent("""{"message":"hello"}""", Encoding.UTF8, "application/json"));

    [Fact]
    public async Task An_owner_creates_a_project_with_a_working_key_and_dsn_from_the_public_url()
    {
        var created = await OkAsync(await _app.ApiClient(_acme.Token).PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/projects", new { name = "Mobile App" }), HttpStatusCode.Created);

        var id = created.GetProperty("id").GetInt64();
        Assert.Equal("mobile-app", created.GetProperty("slug").GetString());
        var key = created.GetProperty("key");
        var publicKey = key.GetProperty("publicKey").GetString()!;
        Assert.Equal($"https://{publicKey}@errors.example.com:8443/{id}", key.GetProperty("dsn").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(publicKey)).StatusCode);
        var projects = await OkAsync(await _app.ApiClient(_acme.Token).GetAsync("/api/v1/projects"));
        Assert.Contains(id, projects.EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Creating_a_project_is_refused_with_a_reason()
    {
        var acme = _app.ApiClient(_acme.Token);
        var member = await AcmeUserAsync("member");

        await ProblemAsync(await acme.PostAsJsonAsync($"/api/v1/organizations/{_globexOrg}/projects", new { name = "x" }), HttpStatusCode.NotFound, "not found");
        await ProblemAsync(await _app.ApiClient(member.Token).PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/projects", new { name = "x" }), HttpStatusCode.Forbidden, "owners and admins");
        await ProblemAsync(await acme.PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/projects", new { name = "  !! " }), HttpStatusCode.BadRequest, "letter or digit");
        await ProblemAsync(await acme.PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/projects", new { }), HttpStatusCode.BadRequest, "letter or digit");
        await ProblemAsync(await acme.PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/projects", new { name = "Web" }), HttpStatusCode.Conflict, "already has a project named web");
        var malformed = await acme.PostAsync($"/api/v1/organizations/{_acmeOrg}/projects", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Keys_are_listed_created_and_revoked_and_a_revoked_key_is_refused_at_once()
    {
        var acme = _app.ApiClient(_acme.Token);
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_acme.PublicKey)).StatusCode); // now cached as valid

        var created = await OkAsync(await acme.PostAsync($"/api/v1/projects/{_acme.ProjectId}/keys", null), HttpStatusCode.Created);
        var revoked = await OkAsync(await acme.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{FirstKeyId(await OkAsync(await acme.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys")))}"));

        Assert.Equal(_acme.PublicKey, revoked.GetProperty("publicKey").GetString());
        Assert.NotEqual(JsonValueKind.Null, revoked.GetProperty("revokedAt").ValueKind);
        Assert.Equal(HttpStatusCode.Forbidden, (await IngestAsync(_acme.PublicKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(created.GetProperty("publicKey").GetString()!)).StatusCode);
        var keys = await OkAsync(await acme.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys"));
        Assert.Equal(2, keys.GetArrayLength());
        Assert.Equal([true, false], keys.EnumerateArray().Select(k => k.GetProperty("revokedAt").ValueKind != JsonValueKind.Null));
        Assert.All(keys.EnumerateArray(), k => Assert.StartsWith("https://" + k.GetProperty("publicKey").GetString() + "@errors.example.com:8443/", k.GetProperty("dsn").GetString(), StringComparison.Ordinal));
    }

    private static long FirstKeyId(JsonElement keys) => keys[0].GetProperty("id").GetInt64();

    [Fact]
    public async Task Another_organizations_keys_and_members_answer_404_and_stay_untouched()
    {
        var acme = _app.ApiClient(_acme.Token);
        var globexKey = FirstKeyId(await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/projects/{_globex.ProjectId}/keys")));
        var globexOwner = (await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/organizations/{_globexOrg}/members")))[0].GetProperty("userId").GetInt64();

        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/projects/{_globex.ProjectId}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PostAsync($"/api/v1/projects/{_globex.ProjectId}/keys", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.DeleteAsync($"/api/v1/projects/{_globex.ProjectId}/keys/{globexKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{globexKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PutAsJsonAsync($"/api/v1/projects/{_globex.ProjectId}/keys/{globexKey}/rate-limit", new { eventsPerSecond = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.GetAsync($"/api/v1/organizations/{_globexOrg}/members")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PostAsJsonAsync($"/api/v1/organizations/{_globexOrg}/members", new { email = "x@y.z" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.DeleteAsync($"/api/v1/organizations/{_globexOrg}/members/{globexOwner}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await acme.PutAsJsonAsync($"/api/v1/organizations/{_globexOrg}/members/{globexOwner}", new { role = "member" })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_globex.PublicKey)).StatusCode);
        var globexKeys = await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/projects/{_globex.ProjectId}/keys"));
        Assert.Equal(JsonValueKind.Null, globexKeys[0].GetProperty("rateLimitPerSecond").ValueKind);
        Assert.Single((await OkAsync(await _app.ApiClient(_globex.Token).GetAsync($"/api/v1/organizations/{_globexOrg}/members"))).EnumerateArray());
    }

    [Fact]
    public async Task A_members_can_read_keys_and_members_but_not_change_them()
    {
        var member = _app.ApiClient((await AcmeUserAsync("member")).Token);
        var keyId = FirstKeyId(await OkAsync(await member.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys")));

        Assert.Equal(2, (await OkAsync(await member.GetAsync($"/api/v1/organizations/{_acmeOrg}/members"))).GetArrayLength());
        await ProblemAsync(await member.PostAsync($"/api/v1/projects/{_acme.ProjectId}/keys", null), HttpStatusCode.Forbidden, "you are a member");
        await ProblemAsync(await member.DeleteAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{keyId}"), HttpStatusCode.Forbidden, "owners and admins");
        await ProblemAsync(await member.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{keyId}/rate-limit", new { eventsPerSecond = 1 }), HttpStatusCode.Forbidden, "owners and admins");
        await ProblemAsync(await member.PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/members", new { email = "x@acme.test" }), HttpStatusCode.Forbidden, "owners and admins");
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_acme.PublicKey)).StatusCode);
    }

    [Fact]
    public async Task A_rate_limit_change_applies_to_the_next_request_and_can_be_reset()
    {
        var acme = _app.ApiClient(_acme.Token);
        var keyId = FirstKeyId(await OkAsync(await acme.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys")));
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_acme.PublicKey)).StatusCode);

        var limited = await OkAsync(await acme.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{keyId}/rate-limit", new { eventsPerSecond = 0.01 }));

        Assert.Equal(0.01, limited.GetProperty("rateLimitPerSecond").GetDouble());
        // 0.01 events/s allows a burst of one event, then one every 100 s.
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_acme.PublicKey)).StatusCode);
        var refused = await IngestAsync(_acme.PublicKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.FromSeconds(10), $"Retry-After {refused.Headers.RetryAfter}");

        var reset = await OkAsync(await acme.PutAsJsonAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{keyId}/rate-limit", new { eventsPerSecond = (double?)null }));
        Assert.Equal(JsonValueKind.Null, reset.GetProperty("rateLimitPerSecond").ValueKind);
        Assert.Equal(HttpStatusCode.Accepted, (await IngestAsync(_acme.PublicKey)).StatusCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1e12")]
    public async Task An_out_of_range_rate_limit_is_a_400(string rate)
    {
        var acme = _app.ApiClient(_acme.Token);
        var keyId = FirstKeyId(await OkAsync(await acme.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys")));

        var response = await acme.PutAsync($"/api/v1/projects/{_acme.ProjectId}/keys/{keyId}/rate-limit",
            new StringContent($$"""{"eventsPerSecond":{{rate}}}""", Encoding.UTF8, "application/json"));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "eventsPerSecond must be between");
    }

    [Fact]
    public async Task Members_are_added_by_email_given_roles_and_removed()
    {
        var acme = _app.ApiClient(_acme.Token);
        var email = $"new-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, Password, isAdmin: false, default);

        var added = await OkAsync(await acme.PostAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/members", new { email = email.ToUpperInvariant() }), HttpStatusCode.Created);
        Assert.Equal((email, "member"), (added.GetProperty("email").GetString(), added.GetProperty("role").GetString()));
        var userId = added.GetProperty("userId").GetInt64();

        var promoted = await OkAsync(await acme.PutAsJsonAsync($"/api/v1/organizations/{_acmeOrg}/members/{userId}", new { role = "Admin" }));
        Assert.Equal("admin", promoted.GetProperty("role").GetString());
        var members = await OkAsync(await acme.GetAsync($"/api/v1/organizations/{_acmeOrg}/members"));
        Assert.Contains((email, "admin"), members.EnumerateArray().Select(m => (m.GetProperty("email").GetString(), m.GetProperty("role").GetString())));

        await OkAsync(await acme.DeleteAsync($"/api/v1/organizations/{_acmeOrg}/members/{userId}"), HttpStatusCode.NoContent);
        members = await OkAsync(await acme.GetAsync($"/api/v1/organizations/{_acmeOrg}/members"));
        Assert.DoesNotContain(email, members.EnumerateArray().Select(m => m.GetProperty("email").GetString()));
    }

    [Fact]
    public async Task Bad_member_requests_are_refused_with_a_reason()
    {
        var acme = _app.ApiClient(_acme.Token);
        var members = $"/api/v1/organizations/{_acmeOrg}/members";
        var owner = (await OkAsync(await acme.GetAsync(members)))[0].GetProperty("userId").GetInt64();
        var existing = await AcmeUserAsync("member");

        await ProblemAsync(await acme.PostAsJsonAsync(members, new { email = "not-an-email" }), HttpStatusCode.BadRequest, "is not an email address");
        await ProblemAsync(await acme.PostAsJsonAsync(members, new { email = "nobody@nowhere.test" }), HttpStatusCode.BadRequest, "no faultline user");
        await ProblemAsync(await acme.PostAsJsonAsync(members, new { email = existing.Email }), HttpStatusCode.Conflict, "already is a member");
        await ProblemAsync(await acme.PostAsJsonAsync(members, new { email = existing.Email, role = "king" }), HttpStatusCode.BadRequest, "role must be one of owner, admin, member");
        await ProblemAsync(await acme.PutAsJsonAsync($"{members}/{existing.UserId}", new { }), HttpStatusCode.BadRequest, "role must be one of");
        await ProblemAsync(await acme.DeleteAsync($"{members}/999999"), HttpStatusCode.NotFound, "not a member");
        await ProblemAsync(await acme.PutAsJsonAsync($"{members}/999999", new { role = "admin" }), HttpStatusCode.NotFound, "not a member");
        await ProblemAsync(await acme.DeleteAsync($"{members}/{owner}"), HttpStatusCode.Conflict, "last owner");
        await ProblemAsync(await acme.PutAsJsonAsync($"{members}/{owner}", new { role = "member" }), HttpStatusCode.Conflict, "last owner");
    }

    [Fact]
    public async Task Admins_manage_members_but_only_owners_touch_the_owner_role()
    {
        var admin = await AcmeUserAsync("admin");
        var member = await AcmeUserAsync("member");
        var asAdmin = _app.ApiClient(admin.Token);
        var members = $"/api/v1/organizations/{_acmeOrg}/members";
        var owner = (await OkAsync(await asAdmin.GetAsync(members))).EnumerateArray().Single(m => m.GetProperty("role").GetString() == "owner").GetProperty("userId").GetInt64();

        await OkAsync(await asAdmin.PutAsJsonAsync($"{members}/{member.UserId}", new { role = "admin" }));
        await ProblemAsync(await asAdmin.PutAsJsonAsync($"{members}/{member.UserId}", new { role = "owner" }), HttpStatusCode.Forbidden, "only owners");
        await ProblemAsync(await asAdmin.DeleteAsync($"{members}/{owner}"), HttpStatusCode.Forbidden, "only owners");
        await ProblemAsync(await asAdmin.PutAsJsonAsync($"{members}/{owner}", new { role = "admin" }), HttpStatusCode.Forbidden, "only owners");
        await OkAsync(await asAdmin.DeleteAsync($"{members}/{member.UserId}"), HttpStatusCode.NoContent);

        // The owner hands over ownership; then the old owner can leave.
        var asOwner = _app.ApiClient(_acme.Token);
        await OkAsync(await asOwner.PutAsJsonAsync($"{members}/{admin.UserId}", new { role = "owner" }));
        await OkAsync(await asOwner.DeleteAsync($"{members}/{owner}"), HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.NotFound, (await asOwner.GetAsync($"/api/v1/projects/{_acme.ProjectId}/keys")).StatusCode);
    }

    [Fact]
    public async Task A_password_change_needs_the_current_password_and_a_long_new_one()
    {
        var email = $"pw-{Guid.NewGuid():N}@acme.test";
        await _app.Accounts.CreateUserAsync(email, Password, isAdmin: false, default);
        var api = _app.ApiClient(await _app.Accounts.CreateApiTokenAsync(email, "tests", default));

        await ProblemAsync(await api.PutAsJsonAsync("/api/v1/account/password", new { currentPassword = "wrong password!!", newPassword = "another long password" }), HttpStatusCode.BadRequest, "current password is wrong");
        await ProblemAsync(await api.PutAsJsonAsync("/api/v1/account/password", new { newPassword = "another long password" }), HttpStatusCode.BadRequest, "current password is wrong");
        await ProblemAsync(await api.PutAsJsonAsync("/api/v1/account/password", new { currentPassword = Password, newPassword = "short" }), HttpStatusCode.BadRequest, "at least 12 characters");
        Assert.NotNull(await _app.Accounts.VerifyPasswordAsync(email, Password, default));

        await OkAsync(await api.PutAsJsonAsync("/api/v1/account/password", new { currentPassword = Password, newPassword = "another long password" }), HttpStatusCode.NoContent);

        Assert.Null(await _app.Accounts.VerifyPasswordAsync(email, Password, default));
        Assert.NotNull(await _app.Accounts.VerifyPasswordAsync(email, "another long password", default));
    }

    [Fact]
    public async Task A_token_is_shown_once_listed_without_secrets_and_stops_working_when_revoked()
    {
        var api = _app.ApiClient(_acme.Token);

        var created = await OkAsync(await api.PostAsJsonAsync("/api/v1/account/tokens", new { name = "deploy bot" }), HttpStatusCode.Created);
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("flt_", token, StringComparison.Ordinal);
        var bot = _app.ApiClient(token);
        Assert.Equal(HttpStatusCode.OK, (await bot.GetAsync("/api/v1/projects")).StatusCode);

        var listResponse = await api.GetAsync("/api/v1/account/tokens");
        var raw = await listResponse.Content.ReadAsStringAsync();
        Assert.DoesNotContain(token, raw, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", raw, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"token\"", raw, StringComparison.Ordinal);
        var listed = JsonDocument.Parse(raw).RootElement;
        Assert.Equal(["tests", "deploy bot"], listed.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.All(listed.EnumerateArray(), t => Assert.NotEqual(JsonValueKind.Null, t.GetProperty("lastUsedAt").ValueKind));

        await OkAsync(await api.DeleteAsync($"/api/v1/account/tokens/{created.GetProperty("id").GetInt64()}"), HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.Unauthorized, (await bot.GetAsync("/api/v1/projects")).StatusCode);
        Assert.Single((await OkAsync(await api.GetAsync("/api/v1/account/tokens"))).EnumerateArray());
    }

    [Fact]
    public async Task Bad_token_requests_and_other_users_tokens_are_refused()
    {
        var api = _app.ApiClient(_acme.Token);
        var globexTokenId = (await OkAsync(await _app.ApiClient(_globex.Token).GetAsync("/api/v1/account/tokens")))[0].GetProperty("id").GetInt64();

        await ProblemAsync(await api.PostAsJsonAsync("/api/v1/account/tokens", new { name = "  " }), HttpStatusCode.BadRequest, "name must have 1 to 100");
        await ProblemAsync(await api.PostAsJsonAsync("/api/v1/account/tokens", new { name = new string('x', 101) }), HttpStatusCode.BadRequest, "name must have 1 to 100");
        await ProblemAsync(await api.DeleteAsync($"/api/v1/account/tokens/{globexTokenId}"), HttpStatusCode.NotFound, "no active api token");
        Assert.Equal(HttpStatusCode.OK, (await _app.ApiClient(_globex.Token).GetAsync("/api/v1/projects")).StatusCode);
    }

    [Fact]
    public async Task The_account_shows_the_user_and_organizations_and_needs_a_token()
    {
        var me = await OkAsync(await _app.ApiClient(_acme.Token).GetAsync("/api/v1/account"));

        Assert.StartsWith("owner-", me.GetProperty("email").GetString(), StringComparison.Ordinal);
        Assert.False(me.TryGetProperty("passwordHash", out _));
        Assert.Equal([(_acmeOrg, "owner")], me.GetProperty("organizations").EnumerateArray().Select(o => (o.GetProperty("id").GetInt64(), o.GetProperty("role").GetString())));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateClient().GetAsync("/api/v1/account/tokens")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateClient().PostAsJsonAsync("/api/v1/account/tokens", new { name = "x" })).StatusCode);
    }
}

public sealed class SqliteAccountsApiTests() : AccountsApiTests(StoreKind.Sqlite);

public sealed class PostgresAccountsApiTests() : AccountsApiTests(StoreKind.Postgres);

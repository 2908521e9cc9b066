using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Docker;
using Faultline.Tests.Dashboard;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>
/// The log streams API and page: streams listed per project with counts, marked critical at run time
/// (their issues kept until reviewed), reviewed (issues released, held again by new critical lines),
/// scoped to the caller's organization, bad input answered with 4xx. Lines come from util-linux logger. Both engines.
/// </summary>
public abstract class LogStreamApiTests(StoreKind kind) : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(kind, null, ("syslog", LogProtocol.SyslogTcp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private string Streams => $"/api/v1/projects/{_h.Tenant.ProjectId}/streams";

    private async Task SendAsync(string tag, string priority, string message, string? key = null)
    {
        List<string> arguments = ["--server", "127.0.0.1", "--port", _h.Port("syslog").ToString(CultureInfo.InvariantCulture), "--tcp", "--rfc5424", "-t", tag, "-p", priority];
        if (key is not null)
        {
            arguments.AddRange(["--sd-id", "faultline@32473", "--sd-param", $"key=\"{key}\""]);
        }
        arguments.Add(message);
        await LogReceiverHarness.LoggerAsync(null, [.. arguments]);
    }

    private static string Word() => "w" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Waits until the stream is listed with at least this many events (counts are written once a second).</summary>
    private async Task<JsonElement> WaitForStreamAsync(string name, int events, HttpClient? api = null, long? projectId = null)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (true)
        {
            var list = await (api ?? _h.Api).GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId ?? _h.Tenant.ProjectId}/streams");
            var stream = list.EnumerateArray().FirstOrDefault(s => s.GetProperty("name").GetString() == name);
            if (stream.ValueKind == JsonValueKind.Object && stream.GetProperty("events").GetInt64() >= events)
            {
                return stream;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"stream {name} with {events} events not listed: {list}");
            await Task.Delay(200);
        }
    }

    private async Task<long> ErrorIssueAsync(string word) =>
        (await _h.WaitForEventsAsync(word))[0].GetProperty("issueId").GetInt64();

    [Fact]
    public async Task Streams_are_listed_with_container_details_counts_and_errors()
    {
        await SendAsync("web/0123456789ab", "user.info", "started " + Word());
        await SendAsync("web/0123456789ab", "user.info", "listening " + Word());
        await SendAsync("web/0123456789ab", "user.err", "connection refused " + Word());
        await SendAsync("worker", "user.info", "tick " + Word());

        var web = await WaitForStreamAsync("web", 3);
        Assert.Equal("0123456789ab", web.GetProperty("containerId").GetString());
        Assert.Equal("syslog", web.GetProperty("source").GetString());
        Assert.Equal(3, web.GetProperty("events").GetInt64());
        Assert.Equal(1, web.GetProperty("errors").GetInt64());
        Assert.False(web.GetProperty("critical").GetBoolean());
        Assert.False(web.GetProperty("awaitingReview").GetBoolean());
        Assert.Equal("container_name:web", web.GetProperty("eventsQuery").GetString());
        Assert.Equal(3, (await _h.EventsAsync(web.GetProperty("eventsQuery").GetString()!)).Count);
        var worker = await WaitForStreamAsync("worker", 1);
        Assert.Equal(0, worker.GetProperty("errors").GetInt64());

        var one = await _h.Api.GetFromJsonAsync<JsonElement>($"{Streams}/{web.GetProperty("id").GetInt64()}");
        Assert.Equal("web", one.GetProperty("name").GetString());
        var critical = await _h.Api.GetFromJsonAsync<JsonElement>($"{Streams}?critical=true");
        Assert.Equal(0, critical.GetArrayLength());
    }

    [Fact]
    public async Task A_stream_marked_critical_keeps_its_issues_until_reviewed_and_new_critical_lines_hold_them_again()
    {
        await SendAsync("db-main", "user.info", "ready " + Word());
        var stream = await WaitForStreamAsync("db-main", 1);
        var id = stream.GetProperty("id").GetInt64();
        var before = await ErrorIssueAsync(await SendErrorAsync("db-main", "replication broken before"));
        Assert.False(await KeepUntilReviewedAsync(before));

        var marked = await _h.Api.PatchAsJsonAsync($"{Streams}/{id}", new { critical = true });
        Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        Assert.True((await marked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("critical").GetBoolean());
        Assert.Equal(1, (await _h.Api.GetFromJsonAsync<JsonElement>($"{Streams}?critical=true")).GetArrayLength());

        var word = await SendErrorAsync("db-main", "replication broken after");
        var issue = await ErrorIssueAsync(word);
        Assert.Equal("true", LogReceiverHarness.Tag((await _h.WaitForEventsAsync(word))[0], "critical"));
        await WaitUntilAsync(() => KeepUntilReviewedAsync(issue), $"issue {issue} kept until reviewed");
        stream = await WaitForStreamAsync("db-main", 3);
        await WaitUntilAsync(async () => (await StreamAsync(id)).GetProperty("awaitingReview").GetBoolean(), "stream awaiting review");
        Assert.True((await StreamAsync(id)).GetProperty("keptIssues").GetInt32() >= 1);

        var reviewed = await _h.Api.PostAsync($"{Streams}/{id}/review", null);
        Assert.Equal(HttpStatusCode.OK, reviewed.StatusCode);
        var body = await reviewed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(issue, body.GetProperty("releasedIssues").EnumerateArray().Select(i => i.GetInt64()));
        Assert.False(body.GetProperty("stream").GetProperty("awaitingReview").GetBoolean());
        Assert.Equal(0, body.GetProperty("stream").GetProperty("keptIssues").GetInt32());
        Assert.True(body.GetProperty("stream").TryGetProperty("reviewedAt", out var at) && at.ValueKind == JsonValueKind.String);
        Assert.False(await KeepUntilReviewedAsync(issue));

        // The same error again: the issue is held again and the stream awaits a new review.
        await SendAsync("db-main", "user.err", $"replication broken after {word}");
        await _h.WaitForEventsAsync(word, 2);
        await WaitUntilAsync(() => KeepUntilReviewedAsync(issue), $"issue {issue} held again");
        await WaitUntilAsync(async () => (await StreamAsync(id)).GetProperty("awaitingReview").GetBoolean(), "stream awaiting review again");

        var unmarked = await _h.Api.PatchAsJsonAsync($"{Streams}/{id}", new { critical = false });
        Assert.False((await unmarked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("critical").GetBoolean());
        var plain = await SendErrorAsync("db-main", "disk slow");
        Assert.Equal("", LogReceiverHarness.Tag((await _h.WaitForEventsAsync(plain))[0], "critical"));
    }

    [Fact]
    public async Task An_issue_shared_by_two_critical_streams_is_released_only_when_both_are_reviewed()
    {
        await SendAsync("api-a", "user.info", "up " + Word());
        await SendAsync("api-b", "user.info", "up " + Word());
        var a = (await WaitForStreamAsync("api-a", 1)).GetProperty("id").GetInt64();
        var b = (await WaitForStreamAsync("api-b", 1)).GetProperty("id").GetInt64();
        foreach (var id in new[] { a, b })
        {
            Assert.Equal(HttpStatusCode.OK, (await _h.Api.PatchAsJsonAsync($"{Streams}/{id}", new { critical = true })).StatusCode);
        }
        var word = Word();
        await SendAsync("api-a", "user.err", $"upstream timeout {word}");
        await SendAsync("api-b", "user.err", $"upstream timeout {word}");
        var events = await _h.WaitForEventsAsync(word, 2);
        var issue = events[0].GetProperty("issueId").GetInt64();
        Assert.Equal(issue, events[1].GetProperty("issueId").GetInt64());
        await WaitUntilAsync(() => KeepUntilReviewedAsync(issue), "shared issue kept");
        await WaitUntilAsync(async () => (await StreamAsync(a)).GetProperty("awaitingReview").GetBoolean()
            && (await StreamAsync(b)).GetProperty("awaitingReview").GetBoolean(), "both streams awaiting review");

        var first = await (await _h.Api.PostAsync($"{Streams}/{a}/review", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(issue, first.GetProperty("releasedIssues").EnumerateArray().Select(i => i.GetInt64()));
        Assert.True(await KeepUntilReviewedAsync(issue));
        var second = await (await _h.Api.PostAsync($"{Streams}/{b}/review", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(issue, second.GetProperty("releasedIssues").EnumerateArray().Select(i => i.GetInt64()));
        Assert.False(await KeepUntilReviewedAsync(issue));
    }

    [Fact]
    public async Task Another_organization_sees_nothing_and_bad_requests_get_clear_4xx()
    {
        await SendAsync("secret-db", "user.info", "ready " + Word());
        var id = (await WaitForStreamAsync("secret-db", 1)).GetProperty("id").GetInt64();
        var other = await _h.App.CreateTenantAsync("other");
        var intruder = _h.App.ApiClient(other.Token);

        foreach (var response in new[]
        {
            await intruder.GetAsync(Streams),
            await intruder.GetAsync($"{Streams}/{id}"),
            await intruder.PatchAsJsonAsync($"{Streams}/{id}", new { critical = true }),
            await intruder.PostAsync($"{Streams}/{id}/review", null),
        })
        {
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not in one of your organizations");
        }
        // Its own project cannot reach the stream by id either.
        await AssertProblemAsync(await intruder.GetAsync($"/api/v1/projects/{other.ProjectId}/streams/{id}"), HttpStatusCode.NotFound, "has no log stream");
        await AssertProblemAsync(await intruder.PatchAsJsonAsync($"/api/v1/projects/{other.ProjectId}/streams/{id}", new { critical = true }), HttpStatusCode.NotFound, "has no log stream");
        Assert.Equal(0, (await intruder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{other.ProjectId}/streams")).GetArrayLength());
        Assert.False((await StreamAsync(id)).GetProperty("critical").GetBoolean());

        await AssertProblemAsync(await _h.Api.PatchAsJsonAsync($"{Streams}/{id}", new { }), HttpStatusCode.BadRequest, "\"critical\": true");
        await AssertProblemAsync(await _h.Api.GetAsync($"{Streams}?limit=0"), HttpStatusCode.BadRequest, "limit must be between 1 and");
        await AssertProblemAsync(await _h.Api.PostAsync($"{Streams}/987654321/review", null), HttpStatusCode.NotFound, "has no log stream 987654321");
        var badJson = await _h.Api.PatchAsync($"{Streams}/{id}", new StringContent("{\"critical\": \"yes\"", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _h.App.CreateClient().GetAsync(Streams)).StatusCode);
    }

    [Fact]
    public async Task The_streams_page_lists_streams_and_marks_them_critical_and_reviewed()
    {
        var (tenant, email) = await DashboardTenant.CreateAsync(_h.App, "pages");
        await SendAsync("cache-1", "user.info", "warm " + Word(), tenant.PublicKey);
        var api = _h.App.ApiClient(tenant.Token);
        var id = (await WaitForStreamAsync("cache-1", 1, api, tenant.ProjectId)).GetProperty("id").GetInt64();
        using var browser = await DashboardSession.SignedInAsync(_h.App, email);
        var page = $"/projects/{tenant.ProjectId}/streams";

        var (status, html) = await browser.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("cache-1", html);
        Assert.Contains($"data-stream-id=\"{id}\"", html);
        Assert.Contains("Mark critical", html);

        var posted = await browser.PostFormAsync(page, $"critical-{id}", []);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.True((await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}/streams/{id}")).GetProperty("critical").GetBoolean());
        await SendAsync("cache-1", "user.err", "eviction storm " + Word(), tenant.PublicKey);
        await WaitUntilAsync(async () => (await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}/streams/{id}")).GetProperty("awaitingReview").GetBoolean(), "page stream awaiting review");
        (_, html) = await browser.GetAsync(page);
        Assert.Contains("Mark reviewed", html);

        posted = await browser.PostFormAsync(page, $"review-{id}", []);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.False((await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}/streams/{id}")).GetProperty("awaitingReview").GetBoolean());

        // Another organization's project: 404.
        (status, _) = await browser.GetAsync($"/projects/{_h.Tenant.ProjectId}/streams");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task A_member_reviews_streams_but_only_owners_and_admins_mark_them_critical()
    {
        var (tenant, ownerEmail) = await DashboardTenant.CreateAsync(_h.App, "roles");
        var owner = _h.App.ApiClient(tenant.Token);
        await SendAsync("queue-1", "user.info", "ready " + Word(), tenant.PublicKey);
        var id = (await WaitForStreamAsync("queue-1", 1, owner, tenant.ProjectId)).GetProperty("id").GetInt64();
        var stream = $"/api/v1/projects/{tenant.ProjectId}/streams/{id}";

        var memberEmail = $"member-{Guid.NewGuid():N}@roles.test";
        await _h.App.Accounts.CreateUserAsync(memberEmail, DashboardTenant.Password, isAdmin: false, default);
        var organization = (await owner.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}")).GetProperty("organizationId").GetInt64();
        var added = await owner.PostAsJsonAsync($"/api/v1/organizations/{organization}/members", new { email = memberEmail, role = "member" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var member = _h.App.ApiClient(await _h.App.Accounts.CreateApiTokenAsync(memberEmail, "tests", default));

        // API: a member's PATCH is refused and changes nothing; the owner's is applied; the member may review.
        await AssertProblemAsync(await member.PatchAsJsonAsync(stream, new { critical = true }), HttpStatusCode.Forbidden, "Only owners and admins");
        Assert.False((await owner.GetFromJsonAsync<JsonElement>(stream)).GetProperty("critical").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync(stream, new { critical = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.PostAsync($"{stream}/review", null)).StatusCode);

        // Page: the member sees the badge but no toggle, and a forged toggle post changes nothing.
        using var browser = await DashboardSession.SignedInAsync(_h.App, memberEmail);
        var page = $"/projects/{tenant.ProjectId}/streams";
        var (status, html) = await browser.GetAsync(page);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("critical</span>", html);
        Assert.DoesNotContain("Not critical", html);
        Assert.Contains("Only owners and admins", html);
        await browser.PostFormAsync(page, $"critical-{id}", [], tokenFrom: "/account");
        Assert.True((await owner.GetFromJsonAsync<JsonElement>(stream)).GetProperty("critical").GetBoolean());

        // The owner's page has the toggle.
        using var ownerBrowser = await DashboardSession.SignedInAsync(_h.App, ownerEmail);
        (_, html) = await ownerBrowser.GetAsync(page);
        Assert.Contains("Not critical", html);
    }

    private async Task<string> SendErrorAsync(string tag, string text)
    {
        var word = Word();
        await SendAsync(tag, "user.err", $"{text} {word}");
        return word;
    }

    private async Task<JsonElement> StreamAsync(long id) => await _h.Api.GetFromJsonAsync<JsonElement>($"{Streams}/{id}");

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(150);
        }
    }

    private async Task<bool> KeepUntilReviewedAsync(long issueId)
    {
        await using var connection = await _h.App.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT keep_until_reviewed FROM issues WHERE id = {issueId}";
        return Convert.ToBoolean(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteLogStreamApiTests() : LogStreamApiTests(StoreKind.Sqlite);

public sealed class PostgresLogStreamApiTests() : LogStreamApiTests(StoreKind.Postgres);

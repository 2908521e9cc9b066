using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Dashboard;

/// <summary>The server-rendered pages over a real store: what they show, triage through their forms, and tenancy by URL.</summary>
public abstract class DashboardPagesTests(StoreKind kind) : IAsyncLifetime
{
    private const string Crash = """
        {"level":"error","environment":"production","release":"shop@1.0","tags":{"browser":"firefox"},
         "breadcrumbs":[{"category":"http","message":"GET /cart"}],
         "exception":[{"type":"TypeError","value":"cart is undefined","stacktrace":{"frames":[
           {"filename":"node_modules/react-dom.js","function":"renderRoot","lineno":10},
           {"filename":"src/cart.js","function":"checkout","lineno":42,"in_app":true,"context_line":"  cart.total()","pre_context":["function checkout(cart) {"],"post_context":["}"]}]}}]}
        """;

    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;
    private DashboardSession _browser = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind);
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

    private async Task<(long IssueId, string EventId)> SendAsync(TestTenant tenant, string json)
    {
        var response = await _app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ids")[0].GetString()!;
        var stored = await _app.ApiClient(tenant.Token).GetFromJsonAsync<JsonElement>($"/api/v1/events/{eventId}");
        return (stored.GetProperty("issueId").GetInt64(), eventId);
    }

    [Fact]
    public async Task The_issues_page_lists_issues_with_counts_and_bulk_resolve_takes_them_off_the_unresolved_list()
    {
        var (crash, _) = await SendAsync(_acme, Crash);
        await SendAsync(_acme, Crash);
        var (message, _) = await SendAsync(_acme, """{"message":"disk almost full","level":"warning"}""");
        var (foreign, _) = await SendAsync(_globex, Crash);

        var (status, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/issues");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("TypeError: cart is undefined", html);
        Assert.Contains("disk almost full", html);
        Assert.Contains("aria-label=\"2 events in the last 24 hours\"", html);

        // Another organization's issue id in the form is ignored.
        var response = await _browser.PostFormAsync($"/projects/{_acme.ProjectId}/issues", "bulk",
            new() { ["action"] = "resolve", ["ids"] = crash.ToString(), }, tokenFrom: $"/projects/{_acme.ProjectId}/issues");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var bulk = await _browser.PostFormAsync($"/projects/{_acme.ProjectId}/issues", "bulk",
            new() { ["action"] = "ignore", ["ids"] = foreign.ToString() });
        Assert.Equal(HttpStatusCode.Redirect, bulk.StatusCode);

        (_, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/issues");
        Assert.DoesNotContain("TypeError: cart is undefined", html);
        Assert.Contains("disk almost full", html);
        (_, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/issues?status=resolved");
        Assert.Contains("TypeError: cart is undefined", html);
        Assert.Contains($"/issues/{crash}", html);
        Assert.DoesNotContain($"/issues/{message}\"", html);

        var globexIssue = await _app.ApiClient(_globex.Token).GetFromJsonAsync<JsonElement>($"/api/v1/issues/{foreign}");
        Assert.Equal("unresolved", globexIssue.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_bad_query_shows_the_parser_message_and_marks_its_position()
    {
        var (status, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/issues?query=level%3A");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("class=\"querybar invalid\"", html);
        Assert.Contains("<code class=\"query-echo\">level:<mark> </mark></code>", html);
        Assert.Contains("position 6", html);
    }

    [Fact]
    public async Task The_issue_page_shows_the_stack_with_in_app_frames_context_breadcrumbs_tags_and_resolves()
    {
        var (issueId, first) = await SendAsync(_acme, Crash);
        var (_, second) = await SendAsync(_acme, Crash.Replace("firefox", "chrome", StringComparison.Ordinal));

        var (status, html) = await _browser.GetAsync($"/issues/{issueId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<li class=\"frame in-app\">", html);
        Assert.Contains("<span class=\"fn\">checkout</span>", html);
        Assert.Contains("<span class=\"line current\"><span class=\"ln\">42</span>  cart.total()", html);
        Assert.Contains("<summary>1 system frame</summary>", html);
        Assert.Contains("GET /cart", html);
        Assert.Contains("title=\"1 of 2\"", html); // browser: firefox 50 %, chrome 50 %
        Assert.Contains($"?event={first}\" rel=\"next\"", html); // the newest event is shown; the older one is next

        (status, html) = await _browser.GetAsync($"/issues/{issueId}?event={first}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"?event={second}\" rel=\"prev\"", html);

        var resolve = await _browser.PostFormAsync($"/issues/{issueId}", "status", new() { ["action"] = "resolve" });
        Assert.Equal(HttpStatusCode.Redirect, resolve.StatusCode);
        (_, html) = await _browser.GetAsync($"/issues/{issueId}");
        Assert.Contains("<span class=\"badge status\">resolved</span>", html);
    }

    [Fact]
    public async Task The_events_explorer_searches_and_opens_an_event_in_the_drawer()
    {
        var (_, eventId) = await SendAsync(_acme, Crash);
        await SendAsync(_acme, """{"message":"disk almost full","level":"warning"}""");

        var (status, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/events?query=level%3Aerror");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("TypeError: cart is undefined", html);
        Assert.DoesNotContain("disk almost full", html);
        Assert.Contains("aria-label=\"1 events, per hour\"", html);

        (status, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/events?event={eventId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("class=\"drawer\"", html);
        Assert.Contains("<span class=\"fn\">checkout</span>", html);
    }

    [Fact]
    public async Task Pages_of_another_organization_answer_404_by_url()
    {
        var (issueId, eventId) = await SendAsync(_globex, Crash);
        var (ownIssue, _) = await SendAsync(_acme, Crash);
        string[] paths =
        [
            $"/projects/{_globex.ProjectId}/issues",
            $"/projects/{_globex.ProjectId}/events",
            $"/projects/{_globex.ProjectId}/events?event={eventId}",
            $"/projects/{_acme.ProjectId}/events?event={eventId}",
            $"/issues/{issueId}",
            $"/issues/{ownIssue}?event={eventId}",
            "/projects/999999/issues",
            "/issues/999999",
        ];
        foreach (var path in paths)
        {
            var (status, html) = await _browser.GetAsync(path);
            Assert.True(status == HttpStatusCode.NotFound, $"{path} answered {(int)status}");
            Assert.DoesNotContain("cart is undefined", html);
        }
        var post = await _browser.PostFormAsync($"/issues/{issueId}", "status", new() { ["action"] = "resolve" }, tokenFrom: $"/issues/{ownIssue}");
        // The page is a 404 before any form exists on it, so the post is refused (400 or 404) and changes nothing.
        Assert.True(post.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"answered {(int)post.StatusCode}");
        var globexIssue = await _app.ApiClient(_globex.Token).GetFromJsonAsync<JsonElement>($"/api/v1/issues/{issueId}");
        Assert.Equal("unresolved", globexIssue.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_project_without_events_shows_its_dsn_and_sdk_snippets()
    {
        var (_, html) = await _browser.GetAsync($"/projects/{_acme.ProjectId}/issues");
        Assert.Contains("No issues yet", html);
        Assert.Contains(_acme.PublicKey, html);
        Assert.Contains("SentrySdk.Init", html);
        Assert.Contains("Faultline.init", html);
    }
}

public sealed class SqliteDashboardPagesTests() : DashboardPagesTests(StoreKind.Sqlite);

public sealed class PostgresDashboardPagesTests() : DashboardPagesTests(StoreKind.Postgres);

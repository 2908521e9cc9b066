using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Dashboard;

/// <summary>The issues page pages forwards and backwards (keyset cursors both ways), ten issues per page (the smallest page size).</summary>
public abstract partial class IssuePagingTests(StoreKind kind) : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _tenant = null!;
    private DashboardSession _browser = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?> { ["Faultline:Dashboard:PageSize"] = "10" });
        string email;
        (_tenant, email) = await DashboardTenant.CreateAsync(_app, "acme");
        _browser = await DashboardSession.SignedInAsync(_app, email);
    }

    public async Task DisposeAsync()
    {
        _browser.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Next_then_previous_links_walk_the_issues_and_come_back_to_the_first_page()
    {
        // 25 issues "a" to "y" last seen a minute apart: "y" is the newest. (Letters: digits in a message do not make a new issue.)
        var now = DateTimeOffset.UtcNow;
        for (var n = 1; n <= 25; n++)
        {
            await SendAsync($$"""{"message":"paging failure {{Letter(n)}}","timestamp":"{{now.AddMinutes(n - 30):O}}"}""");
        }
        static List<string> Numbers(int from, int to) => [.. Enumerable.Range(to, from - to + 1).Reverse().Select(Letter)];

        var first = await PageAsync($"/projects/{_tenant.ProjectId}/issues");
        Assert.Equal(Numbers(25, 16), first.Titles);
        Assert.Null(first.Previous);

        var second = await PageAsync(first.Next!);
        Assert.Equal(Numbers(15, 6), second.Titles);
        var third = await PageAsync(second.Next!);
        Assert.Equal(Numbers(5, 1), third.Titles);
        Assert.Null(third.Next);

        var backToSecond = await PageAsync(third.Previous!);
        Assert.Equal(Numbers(15, 6), backToSecond.Titles);
        Assert.NotNull(backToSecond.Next);
        var backToFirst = await PageAsync(backToSecond.Previous!);
        Assert.Equal(Numbers(25, 16), backToFirst.Titles);
        Assert.Null(backToFirst.Previous);
        Assert.Equal(second.Titles, (await PageAsync(backToFirst.Next!)).Titles);
    }

    [Fact]
    public async Task Paging_back_by_event_count_keeps_the_sort()
    {
        // Issue "top" has 3 events, eleven others one each: sorted by count, "top" leads the first page.
        for (var i = 0; i < 3; i++)
        {
            await SendAsync("""{"message":"counted failure top"}""");
        }
        for (var n = 1; n <= 11; n++)
        {
            await SendAsync($$"""{"message":"counted failure {{Letter(n)}}"}""");
        }

        var first = await PageAsync($"/projects/{_tenant.ProjectId}/issues?sort=count");
        Assert.Equal("top", first.Titles[0]);
        Assert.Equal(10, first.Titles.Count);
        var second = await PageAsync(first.Next!);
        Assert.Equal(2, second.Titles.Count);
        Assert.Contains("sort=count", second.Previous!, StringComparison.Ordinal);
        Assert.Equal(first.Titles, (await PageAsync(second.Previous!)).Titles);
    }

    private static string Letter(int n) => ((char)('a' + n - 1)).ToString();

    private async Task SendAsync(string json)
    {
        var response = await _app.IngestClient(_tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode); // answered after the commit
    }

    private async Task<(List<string> Titles, string? Next, string? Previous)> PageAsync(string url)
    {
        var (status, html) = await _browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, status);
        var titles = IssueTitle().Matches(html).Select(m => m.Groups[1].Value).ToList();
        var next = NextLink().Match(html);
        var previous = PreviousLink().Match(html);
        return (titles, next.Success ? WebUtility.HtmlDecode(next.Groups[1].Value) : null, previous.Success ? WebUtility.HtmlDecode(previous.Groups[1].Value) : null);
    }

    [GeneratedRegex("""<a href="/issues/\d+">(?:paging|counted) failure (\w+)</a>""")]
    private static partial Regex IssueTitle();

    [GeneratedRegex("""<a href="([^"]+)" rel="next">""")]
    private static partial Regex NextLink();

    [GeneratedRegex("""<a href="([^"]+)" rel="prev">""")]
    private static partial Regex PreviousLink();
}

public sealed class SqliteIssuePagingTests() : IssuePagingTests(StoreKind.Sqlite);

public sealed class PostgresIssuePagingTests() : IssuePagingTests(StoreKind.Postgres);

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Faultline.Tests.Dashboard;

/// <summary>
/// The dashboard in Debian's Chromium (Playwright, no browser download) against a listening server:
/// sign in, see ingested issues, open one, resolve it, see it leave the list, browse events, watch the
/// live tail receive a new event. Screenshots of each page go to the test output folder
/// (dashboard-screenshots/); with FAULTLINE_UPDATE_SCREENSHOTS=1 they are also copied to docs/images/.
/// One browser per class; needs /usr/bin/chromium, which ./test.sh installs. Never skips.
/// </summary>
public abstract class DashboardEndToEndTests(StoreKind kind, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Crash = """
        {"level":"error","environment":"production","release":"shop@2.4.0","tags":{"browser":"firefox","region":"eu"},
         "user":{"id":"42","email":"ada@example.com"},"request":{"url":"https://shop.example.com/cart","method":"POST"},
         "breadcrumbs":[{"category":"navigation","message":"/ -> /cart"},{"category":"http","message":"POST /api/cart 500","level":"error"}],
         "exception":[{"type":"TypeError","value":"Cannot read properties of undefined (reading 'total')","stacktrace":{"frames":[
           {"filename":"node_modules/react-dom/cjs/react-dom.production.js","function":"commitRoot","lineno":8123},
           {"filename":"node_modules/react-dom/cjs/react-dom.production.js","function":"invokeGuardedCallback","lineno":4071},
           {"filename":"src/cart/Checkout.tsx","function":"submitOrder","lineno":42,"colno":17,"in_app":true,
            "pre_context":["export function submitOrder(cart: Cart) {","  const items = cart.items;"],"context_line":"  const sum = cart.summary.total;","post_context":["  return api.post('/orders', { items, sum });","}"]},
           {"filename":"src/cart/useCart.ts","function":"onSubmit","lineno":18,"in_app":true}]}}]}
        """;

    private KestrelFaultline _server = null!;
    private TestTenant _tenant = null!;
    private string _email = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _screenshots = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (./test.sh does).");
        _server = await KestrelFaultline.StartAsync(kind);
        (_tenant, _email) = await DashboardTenant.CreateAsync(_server, "acme");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        _screenshots = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");
        Directory.CreateDirectory(_screenshots);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<string> SendAsync(string json)
    {
        using var client = new HttpClient { BaseAddress = _server.Address };
        client.DefaultRequestHeaders.Add("X-Faultline-Key", _tenant.PublicKey);
        var response = await client.PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ids")[0].GetString()!;
    }

    private async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(_screenshots, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        if (Environment.GetEnvironmentVariable("FAULTLINE_UPDATE_SCREENSHOTS") == "1")
        {
            var docs = Path.Combine(RepositoryFiles.Root, "docs", "images");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, $"dashboard-{name}.png"), overwrite: true);
        }
    }

    [Fact]
    public async Task Sign_in_triage_an_issue_browse_events_and_watch_the_live_tail()
    {
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _server.Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            TimezoneId = "Asia/Tokyo",
            Locale = "en-GB",
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);

        // Sign in; the project has no events yet, so the empty state shows the DSN.
        await page.GotoAsync($"/projects/{_tenant.ProjectId}/issues");
        Assert.Contains("/login", page.Url);
        await page.FillAsync("input[name='Input.Email']", _email);
        await page.FillAsync("input[name='Input.Password']", DashboardTenant.Password);
        await ScreenshotAsync(page, "login");
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"**/projects/{_tenant.ProjectId}/issues");
        await Assertions.Expect(page.Locator("pre.dsn")).ToContainTextAsync(_tenant.PublicKey);
        await ScreenshotAsync(page, "empty");

        // Ingest through the API and see the issues.
        await SendAsync(Crash);
        await SendAsync(Crash.Replace("firefox", "chrome", StringComparison.Ordinal));
        await SendAsync("""{"message":"Payment provider answered slowly (2.4 s)","level":"warning","environment":"production","release":"shop@2.4.0"}""");
        await SendAsync("""{"message":"Cache warmed","level":"info","environment":"staging"}""");
        await page.GotoAsync($"/projects/{_tenant.ProjectId}/issues");
        var crashRow = page.Locator("tr", new() { HasText = "Cannot read properties of undefined" });
        await Assertions.Expect(crashRow).ToHaveCountAsync(1);
        await Assertions.Expect(crashRow.Locator("td.num")).ToHaveTextAsync("2");
        // Times are rewritten into the browser's zone (Tokyo, UTC+9) by dashboard.js.
        await Assertions.Expect(crashRow.Locator("time").First).ToHaveAttributeAsync("data-local", "1");
        await ScreenshotAsync(page, "issues");

        // Open it, look at the stack, resolve it.
        await crashRow.Locator("td.title a").ClickAsync();
        await page.WaitForURLAsync("**/issues/*");
        await Assertions.Expect(page.Locator("li.frame.in-app").First).ToContainTextAsync("onSubmit");
        await Assertions.Expect(page.Locator(".line.current")).ToContainTextAsync("cart.summary.total");
        var shown = page.Locator(".event-detail dl.facts time").First;
        var utc = DateTimeOffset.Parse((await shown.GetAttributeAsync("datetime"))!, System.Globalization.CultureInfo.InvariantCulture);
        var tokyo = utc.ToOffset(TimeSpan.FromHours(9)).ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        await Assertions.Expect(shown).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex(tokyo));
        await ScreenshotAsync(page, "issue");
        await page.ClickAsync("button[value=resolve]");
        await Assertions.Expect(page.Locator(".badge.status")).ToHaveTextAsync("resolved");

        // It left the unresolved list; the others are still there.
        await page.ClickAsync("nav.main >> text=Issues");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Issues");
        await Assertions.Expect(page.Locator("td.title", new() { HasText = "Payment provider" })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("td.title", new() { HasText = "Cannot read properties" })).ToHaveCountAsync(0);

        // Multi-select: ignore the two remaining issues at once.
        await page.CheckAsync("[data-select-all]");
        await page.ClickAsync("button[value=ignore]");
        await Assertions.Expect(page.Locator("table.issues")).ToHaveCountAsync(0);

        // Events explorer with the drawer.
        await page.ClickAsync("nav.main >> text=Events");
        // Links load through Blazor's enhanced navigation: wait for the new page before using its form.
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Events");
        await page.FillAsync("input[name=query]", "level:error");
        await page.ClickAsync("form.filters button[type=submit]");
        await page.WaitForURLAsync("**/events?query=level*");
        await Assertions.Expect(page.Locator("table.events tbody tr")).ToHaveCountAsync(2);
        await page.Locator("table.events td.msg a").First.ClickAsync();
        await Assertions.Expect(page.Locator(".drawer")).ToContainTextAsync("submitOrder");
        await ScreenshotAsync(page, "events");

        // Live tail: a new event appears without reloading.
        await page.ClickAsync("nav.main >> text=Live");
        await Assertions.Expect(page.Locator("[data-live-state=listening]")).ToHaveCountAsync(1);
        var sent = Stopwatch.StartNew();
        await SendAsync("""{"message":"Live one: checkout latency above 2 s","level":"warning"}""");
        var acknowledged = sent.Elapsed;
        await Assertions.Expect(page.Locator("table.live td.msg", new() { HasText = "Live one" })).ToHaveCountAsync(1);
        output.WriteLine($"Live tail: row visible {(sent.Elapsed - acknowledged).TotalMilliseconds:F0} ms after the 202 (one event, not a benchmark).");
        await Assertions.Expect(page.Locator("[data-dropped]")).ToHaveAttributeAsync("data-dropped", "0");
        await page.ClickAsync("button:has-text('Pause')");
        await SendAsync("""{"message":"Held while paused","level":"info"}""");
        await Assertions.Expect(page.Locator(".live-status .paused")).ToContainTextAsync("1 waiting");
        await Assertions.Expect(page.Locator("table.live td.msg", new() { HasText = "Held while paused" })).ToHaveCountAsync(0);
        await page.ClickAsync("button:has-text('Resume')");
        await Assertions.Expect(page.Locator("table.live td.msg", new() { HasText = "Held while paused" })).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "live");

        // Readable on a phone.
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync($"/issues/{await CrashIssueIdAsync()}");
        await ScreenshotAsync(page, "phone-issue");
        // Names the elements whose right edge passes the viewport, so a failure says what to fix.
        var overflowing = await page.EvaluateAsync<string>("""
            () => document.documentElement.scrollWidth <= window.innerWidth + 1 ? "" :
              [...document.querySelectorAll("body *")]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replaceAll(" ", ".") : "")
                          + " (" + Math.round(e.getBoundingClientRect().right) + " px)")
                .join(", ")
            """);
        Assert.True(overflowing.Length == 0, $"The issue page should not scroll sideways on a 390 px wide phone; too wide: {overflowing}");
    }

    private async Task<long> CrashIssueIdAsync()
    {
        using var api = _server.ApiClient(_tenant.Token);
        var issues = await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_tenant.ProjectId}/issues?query=is:resolved");
        return issues.GetProperty("items")[0].GetProperty("id").GetInt64();
    }
}

public sealed class SqliteDashboardEndToEndTests(ITestOutputHelper output) : DashboardEndToEndTests(StoreKind.Sqlite, output);

public sealed class PostgresDashboardEndToEndTests(ITestOutputHelper output) : DashboardEndToEndTests(StoreKind.Postgres, output);

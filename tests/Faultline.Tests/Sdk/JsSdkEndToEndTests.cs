using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sdk;

/// <summary>
/// Faultline's own TypeScript SDK (sdk/js) against a listening Faultline: headless Chromium loads a page
/// with the browser bundle (sdk/js/scripts/e2e-browser.mjs), and a Node process with the SDK crashes
/// (sdk/js/scripts/e2e-node-crash.mjs). The scripts only drive the SDK; what was stored is asserted here,
/// through the query API. Needs sdk/js/dist and /usr/bin/chromium, which sdk/js/test.sh provides (the
/// repository's ./test.sh runs it before the .NET tests). Never skips.
/// </summary>
public abstract class JsSdkEndToEndTests(StoreKind kind) : IAsyncLifetime
{
    private const string Release = "faultline-js-e2e@1.2.3";
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);

    private KestrelFaultline _server = null!;
    private TestTenant _tenant = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await KestrelFaultline.StartAsync(kind);
        _tenant = await _server.CreateTenantAsync("jssdk");
        _api = _server.ApiClient(_tenant.Token);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_page_in_headless_Chromium_reports_an_uncaught_error_an_unhandled_rejection_and_a_handled_exception()
    {
        var run = await RunScriptAsync("e2e-browser.mjs");
        Assert.True(run.ExitCode == 0, $"node e2e-browser.mjs exited {run.ExitCode}.{run.Output}");
        var report = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
        var script = report.GetProperty("script").GetString()!;
        var page = report.GetProperty("page").GetString()!;
        var sent = report.GetProperty("events").EnumerateArray()
            .ToDictionary(e => e.GetProperty("message").GetString()!, e => e.GetProperty("id").GetString()!);
        Assert.True(sent.Count == 3, $"The page should have sent three events.{run.Output}");

        var answers = _server.EnvelopeRequests(_tenant.ProjectId).Select(r => r.StatusCode).ToList();
        Assert.True(answers.Count > 0 && answers.All(status => status == 200),
            $"Every envelope should be answered 200; the server answered: [{string.Join(", ", answers)}].{run.Output}");

        var uncaught = await StoredEvents.WaitForEventAsync(_api, sent["e2e uncaught"]);
        var rejection = await StoredEvents.WaitForEventAsync(_api, sent["e2e rejection"]);
        var handled = await StoredEvents.WaitForEventAsync(_api, sent["e2e handled"]);

        AssertException(uncaught, "TypeError", "e2e uncaught", script, "uncaughtFailure", 9, handledByApp: false);
        AssertException(rejection, "RangeError", "e2e rejection", script, "rejectedFailure", 12, handledByApp: false);
        AssertException(handled, "Error", "e2e handled", script, "handledFailure", 6, handledByApp: true);
        Assert.Equal("onerror", Exception(uncaught).GetProperty("mechanism").GetProperty("type").GetString());
        Assert.Equal("onunhandledrejection", Exception(rejection).GetProperty("mechanism").GetProperty("type").GetString());

        foreach (var stored in new[] { uncaught, rejection, handled })
        {
            Assert.Equal(Release, stored.GetProperty("release").GetString());
            Assert.Equal("e2e", stored.GetProperty("environment").GetString());
            var e = stored.GetProperty("event");
            Assert.Equal("javascript", e.GetProperty("platform").GetString());
            Assert.Equal(Release, e.GetProperty("release").GetString());
            Assert.Equal("e2e-user-7", e.GetProperty("user").GetProperty("id").GetString());
            Assert.Equal("e2e-user@example.com", e.GetProperty("user").GetProperty("email").GetString());
            Assert.Equal(page, e.GetProperty("request").GetProperty("url").GetString());
        }

        // Exactly the three events reached the project, as three issues.
        var listed = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_tenant.ProjectId}/events?query=e2e");
        var listedIds = listed.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!).Order().ToList();
        Assert.Equal(sent.Values.Order().ToList(), listedIds);
        Assert.Equal(3, (await StoredEvents.IssuesAsync(_api, _tenant.ProjectId)).GetArrayLength());
    }

    [Fact]
    public async Task A_Node_process_that_crashes_with_an_uncaught_exception_has_its_event_stored_before_it_exits()
    {
        // The SDK gives a crash 2 s to be delivered (like Sentry's shutdownTimeout). A fresh server's first
        // ingest request pays for JIT compilation, which on a loaded 2-core machine took longer than that;
        // warm the path with another project's event so the test measures the SDK, not the cold start.
        var warmup = await _server.CreateTenantAsync("jssdk-warmup");
        using (var client = new HttpClient { BaseAddress = _server.Address })
        {
            client.DefaultRequestHeaders.Add("X-Faultline-Key", warmup.PublicKey);
            var warm = await client.PostAsync("/api/v1/events", JsonContent.Create(new { message = "warm-up", level = "info" }));
            Assert.Equal(HttpStatusCode.Accepted, warm.StatusCode);
        }
        var before = _server.NativeIngestRequests().Count;

        var run = await RunScriptAsync("e2e-node-crash.mjs");
        Assert.True(run.ExitCode == 1, $"The crash should end the process with Node's exit code 1; it exited {run.ExitCode}.{run.Output}");
        Assert.Contains("e2e node crash", run.Stderr, StringComparison.Ordinal); // Node's own report of the error is kept
        var report = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
        var eventId = report.GetProperty("id").GetString()!;

        // The native endpoint answers 202 once the events are durably stored: that answer came before the exit.
        var ingest = _server.NativeIngestRequests().Skip(before).ToList();
        Assert.True(ingest.Count == 1 && ingest[0].StatusCode == 202,
            $"Expected one POST /api/v1/events answered 202; got [{string.Join(", ", ingest.Select(r => r.StatusCode))}].{run.Output}");
        Assert.True(ingest[0].At <= run.ExitedAt, $"The event was stored at {ingest[0].At:O}, after the process exited at {run.ExitedAt:O}.");
        var response = await _api.GetAsync($"/api/v1/events/{eventId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("fatal", stored.GetProperty("level").GetString());
        Assert.Equal(Release, stored.GetProperty("release").GetString());
        Assert.Equal("Error", stored.GetProperty("exceptionType").GetString());
        Assert.Equal("e2e node crash", stored.GetProperty("exceptionValue").GetString());
        var e = stored.GetProperty("event");
        Assert.Equal("node", e.GetProperty("platform").GetString());
        Assert.Equal("e2e-node-user", e.GetProperty("user").GetProperty("id").GetString());
        var exception = Exception(stored);
        Assert.Equal("onuncaughtexception", exception.GetProperty("mechanism").GetProperty("type").GetString());
        Assert.False(exception.GetProperty("mechanism").GetProperty("handled").GetBoolean());
        var crashSite = exception.GetProperty("frames").EnumerateArray().Last();
        Assert.EndsWith("e2e-node-crash.mjs", crashSite.GetProperty("filename").GetString(), StringComparison.Ordinal);
        Assert.Contains("crashHere", crashSite.GetProperty("function").GetString(), StringComparison.Ordinal);
        Assert.Equal(28, crashSite.GetProperty("lineno").GetInt32());
        Assert.True(crashSite.GetProperty("in_app").GetBoolean());
    }

    private static JsonElement Exception(JsonElement stored) =>
        stored.GetProperty("event").GetProperty("exception").EnumerateArray().Last();

    /// <summary>The event's exception and its crash site: the last frame of the page's script.</summary>
    private static void AssertException(JsonElement stored, string type, string value, string script, string function, int line, bool handledByApp)
    {
        Assert.Equal(type, stored.GetProperty("exceptionType").GetString());
        Assert.Equal(value, stored.GetProperty("exceptionValue").GetString());
        var exception = Exception(stored);
        Assert.Equal(type, exception.GetProperty("type").GetString());
        Assert.Equal(value, exception.GetProperty("value").GetString());
        Assert.Equal(handledByApp, exception.GetProperty("mechanism").GetProperty("handled").GetBoolean());
        var frames = exception.GetProperty("frames").EnumerateArray().ToList();
        var mine = frames.Where(f => f.GetProperty("filename").GetString() == script).ToList();
        Assert.True(mine.Count > 0, $"No frame of {script} in {exception}");
        var crashSite = mine[^1];
        Assert.Equal(function, crashSite.GetProperty("function").GetString());
        Assert.Equal(line, crashSite.GetProperty("lineno").GetInt32());
        Assert.Equal(JsonValueKind.Number, crashSite.GetProperty("colno").ValueKind);
        Assert.True(crashSite.GetProperty("in_app").GetBoolean());
    }

    private sealed record ScriptRun(int ExitCode, string Stdout, string Stderr, DateTimeOffset ExitedAt)
    {
        public string Output => $"\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>Runs sdk/js/scripts/NAME --dsn DSN --release R with node; fails the test if it does not end within 90 s.</summary>
    private async Task<ScriptRun> RunScriptAsync(string name)
    {
        var folder = Path.Combine(RepositoryFiles.Root, "sdk", "js");
        foreach (var built in new[] { "dist/faultline.min.js", "dist/node.js" })
        {
            Assert.True(File.Exists(Path.Combine(folder, built)), $"sdk/js/{built} is missing: run sdk/js/test.sh first (./test.sh does).");
        }
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "playwright-core")),
            "sdk/js/node_modules is missing: run sdk/js/test.sh first (./test.sh does).");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine("scripts", name), "--dsn", _tenant.Dsn, "--release", Release })
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("`node` (Node.js 20.19 or later) must be on PATH to run the SDK end-to-end tests.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(ScriptTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.Fail($"node scripts/{name} did not end within {ScriptTimeout.TotalSeconds} s.\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
            }
            var exitedAt = DateTimeOffset.UtcNow;
            return new ScriptRun(process.ExitCode, await stdout, await stderr, exitedAt);
        }
    }
}

public sealed class SqliteJsSdkEndToEndTests() : JsSdkEndToEndTests(StoreKind.Sqlite);

public sealed class PostgresJsSdkEndToEndTests() : JsSdkEndToEndTests(StoreKind.Postgres);

using System.Diagnostics;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sentry;

/// <summary>
/// The official Sentry SDK for Node (npm @sentry/node, pinned in tests/sentry-node/package.json) run as a
/// real Node process by tests/sentry-node/send.mjs against a listening Faultline, through the project's DSN.
/// </summary>
public abstract class SentryNodeSdkTests(StoreKind kind) : IAsyncLifetime
{
    private const string Release = "faultline-node-test@1.0.0";
    private const string Environment = "sdk-test";

    private KestrelFaultline _server = null!;
    private TestTenant _tenant = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _server = await KestrelFaultline.StartAsync(kind);
        _tenant = await _server.CreateTenantAsync("node");
        _api = _server.ApiClient(_tenant.Token);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task An_exception_thrown_twice_from_one_call_site_is_stored_as_one_issue_with_two_events()
    {
        var ids = await SendAsync("events");
        var exceptionIds = ids.GetProperty("exceptions").EnumerateArray().Select(id => id.GetString()!).ToList();
        Assert.Equal(2, exceptionIds.Count);

        var first = await StoredEvents.WaitForEventAsync(_api, exceptionIds[0]);
        var second = await StoredEvents.WaitForEventAsync(_api, exceptionIds[1]);
        Assert.Equal("error", first.GetProperty("level").GetString());
        Assert.Equal("PaymentDeclinedError", first.GetProperty("exceptionType").GetString());
        Assert.Equal("card declined on attempt 1", first.GetProperty("exceptionValue").GetString());
        Assert.Equal("card declined on attempt 2", second.GetProperty("exceptionValue").GetString());
        Assert.Equal(Release, first.GetProperty("release").GetString());
        Assert.Equal(Environment, first.GetProperty("environment").GetString());
        AssertSdk(first);

        var frames = first.GetProperty("event").GetProperty("exception").EnumerateArray().Last().GetProperty("frames").EnumerateArray().ToList();
        var crashSite = frames[^1];
        Assert.Equal("chargeCard", crashSite.GetProperty("function").GetString());
        Assert.EndsWith("send.mjs", crashSite.GetProperty("filename").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Number, crashSite.GetProperty("lineno").ValueKind);
        Assert.True(crashSite.GetProperty("in_app").GetBoolean());
        Assert.Contains(frames, f => f.TryGetProperty("in_app", out var inApp) && inApp.ValueKind == JsonValueKind.False);

        Assert.Equal(first.GetProperty("issueId").GetInt64(), second.GetProperty("issueId").GetInt64());
        var issue = await StoredEvents.IssueOfAsync(_api, first);
        Assert.Equal(2, issue.GetProperty("count").GetInt64());
        Assert.StartsWith("PaymentDeclinedError: card declined on attempt", issue.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_and_an_event_with_tags_user_and_breadcrumbs_are_stored_with_their_fields()
    {
        var ids = await SendAsync("events");

        var message = await StoredEvents.WaitForEventAsync(_api, ids.GetProperty("message").GetString()!);
        Assert.Equal("warning", message.GetProperty("level").GetString());
        Assert.Equal("Node SDK message: queue is backing up", message.GetProperty("message").GetString());
        Assert.Equal(Release, message.GetProperty("release").GetString());

        var scoped = await StoredEvents.WaitForEventAsync(_api, ids.GetProperty("scoped").GetString()!);
        Assert.Equal("error", scoped.GetProperty("level").GetString());
        Assert.Equal("Node SDK scoped event", scoped.GetProperty("message").GetString());
        Assert.Equal(Release, scoped.GetProperty("release").GetString());
        Assert.Equal(Environment, scoped.GetProperty("environment").GetString());
        var e = scoped.GetProperty("event");
        Assert.Equal("eu-west", e.GetProperty("tags").GetProperty("region").GetString());
        Assert.Equal("checkout", e.GetProperty("tags").GetProperty("feature").GetString());
        var user = e.GetProperty("user");
        Assert.Equal("u-42", user.GetProperty("id").GetString());
        Assert.Equal("ada@example.com", user.GetProperty("email").GetString());
        Assert.Equal("ada", user.GetProperty("username").GetString());
        Assert.Equal("10.1.2.3", user.GetProperty("ip_address").GetString());
        var breadcrumbs = e.GetProperty("breadcrumbs").EnumerateArray().ToList();
        Assert.Equal(2, breadcrumbs.Count);
        Assert.Equal("pressed Pay", breadcrumbs[0].GetProperty("message").GetString());
        Assert.Equal("ui.click", breadcrumbs[0].GetProperty("category").GetString());
        Assert.Equal("info", breadcrumbs[0].GetProperty("level").GetString());
        Assert.Equal("POST /api/checkout", breadcrumbs[1].GetProperty("message").GetString());
        Assert.Equal("http", breadcrumbs[1].GetProperty("category").GetString());
        Assert.Equal("warning", breadcrumbs[1].GetProperty("level").GetString());
        AssertSdk(scoped);
    }

    [Fact]
    public async Task Two_different_messages_captured_from_anonymous_functions_of_one_file_are_two_issues()
    {
        // The Node SDK attaches a synthetic exception (no type, the message as value, a stack trace) to
        // messages. Both are captured from send.mjs in frames named "?" (module code, an arrow function):
        // Sentry tells anonymous frames apart by their source line, so these are two issues there.
        var ids = await SendAsync("events");

        var message = await StoredEvents.WaitForEventAsync(_api, ids.GetProperty("message").GetString()!);
        var scoped = await StoredEvents.WaitForEventAsync(_api, ids.GetProperty("scoped").GetString()!);
        Assert.NotEqual(message.GetProperty("issueId").GetInt64(), scoped.GetProperty("issueId").GetInt64());
        Assert.Equal("Node SDK message: queue is backing up", (await StoredEvents.IssueOfAsync(_api, message)).GetProperty("title").GetString());
        Assert.Equal("Node SDK scoped event", (await StoredEvents.IssueOfAsync(_api, scoped)).GetProperty("title").GetString());
        // Two exceptions (one issue), the message, the scoped event.
        Assert.Equal(3, (await StoredEvents.IssuesAsync(_api, _tenant.ProjectId)).GetArrayLength());
    }

    [Fact]
    public async Task An_event_over_32_KiB_is_sent_gzipped_and_chunked_and_is_stored()
    {
        var ids = await SendAsync("large");

        var stored = await StoredEvents.WaitForEventAsync(_api, ids.GetProperty("large").GetString()!);
        Assert.Equal("info", stored.GetProperty("level").GetString());
        Assert.Equal("Node SDK large event", stored.GetProperty("message").GetString());
        AssertSdk(stored);
    }

    private static void AssertSdk(JsonElement stored)
    {
        var sdk = stored.GetProperty("event").GetProperty("sdk");
        Assert.Equal("sentry.javascript.node", sdk.GetProperty("name").GetString());
        Assert.Equal("11.12.0", sdk.GetProperty("version").GetString());
    }

    /// <summary>Runs send.mjs with this project's DSN; returns the event ids it printed, after checking the server took every envelope.</summary>
    private async Task<JsonElement> SendAsync(string scenario)
    {
        var folder = Path.Combine(RepositoryFiles.Root, "tests", "sentry-node");
        Assert.True(File.Exists(Path.Combine(folder, "node_modules", "@sentry", "node", "package.json")),
            $"The Node SDK is not installed in {folder}: run `npm ci --prefix tests/sentry-node` (./test.sh does).");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("send.mjs");
        start.ArgumentList.Add(_tenant.Dsn);
        start.ArgumentList.Add(scenario);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("`node` (Node.js 20.19 or later) must be on PATH to run the Node SDK tests.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout;
            Assert.True(process.ExitCode == 0, $"node send.mjs {scenario} exited {process.ExitCode}: {await stderr}{output}");

            var answers = _server.EnvelopeRequests(_tenant.ProjectId).Select(r => r.StatusCode).ToList();
            Assert.True(answers.Count > 0 && answers.All(status => status == 200),
                $"Every envelope should be answered 200; the server answered: [{string.Join(", ", answers)}]");
            return JsonDocument.Parse(output).RootElement.Clone();
        }
    }
}

public sealed class SqliteSentryNodeSdkTests() : SentryNodeSdkTests(StoreKind.Sqlite);

public sealed class PostgresSentryNodeSdkTests() : SentryNodeSdkTests(StoreKind.Postgres);

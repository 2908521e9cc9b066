using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sentry;

/// <summary>
/// Replays requests captured byte for byte from the official SDKs (Fixtures/sentry-envelopes, see its
/// README) through the in-memory server, with the project id and key rewritten to a test tenant's.
/// </summary>
public abstract partial class EnvelopeFixtureReplayTests(StoreKind kind) : IAsyncLifetime
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentry-envelopes");

    // The title each captured event must get; a new fixture without an entry here fails its replay.
    private static readonly Dictionary<string, string> ExpectedTitles = new()
    {
        ["dotnet-exception-attempt-1"] = "System.InvalidOperationException: card declined on attempt 1",
        ["dotnet-exception-attempt-2"] = "System.InvalidOperationException: card declined on attempt 2",
        ["dotnet-message"] = "DotNet SDK message: queue is backing up",
        ["dotnet-scoped-event"] = "DotNet SDK scoped event",
        ["node-exception-attempt-1"] = "PaymentDeclinedError: card declined on attempt 1",
        ["node-exception-attempt-2"] = "PaymentDeclinedError: card declined on attempt 2",
        ["node-message"] = "Node SDK message: queue is backing up",
        ["node-scoped-event"] = "Node SDK scoped event",
        ["node-large-gzip-chunked"] = "Node SDK large event",
    };

    // Connection-level headers belong to the original connection, and the body length changes with the rewrite.
    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect",
    };

    private FaultlineApp _app = null!;
    private TestTenant _tenant = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(kind);
        _tenant = await _app.CreateTenantAsync("replay");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static IEnumerable<string> FixtureNames() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal).Select(file => Path.GetFileNameWithoutExtension(file));

    public static TheoryData<string> Fixtures() => [.. FixtureNames()];

    [Fact]
    public void The_corpus_has_gzip_and_plain_bodies_from_both_SDKs()
    {
        var requests = FixtureNames().Select(name => (Name: name, Request: CapturedRequest.Load(name))).ToList();
        Assert.Contains(requests, r => r.Name.StartsWith("dotnet-", StringComparison.Ordinal) && r.Request.IsGzip);
        Assert.Contains(requests, r => r.Name.StartsWith("node-", StringComparison.Ordinal) && !r.Request.IsGzip);
        Assert.Contains(requests, r => r.Name.StartsWith("node-", StringComparison.Ordinal) && r.Request.IsGzip
            && r.Request.Header("Transfer-Encoding") == "chunked" && r.Request.Header("Content-Length") is null);
        Assert.All(requests, r => Assert.True(ExpectedTitles.ContainsKey(r.Name), $"No expected title for fixture {r.Name}."));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task A_captured_request_is_accepted_and_its_event_stored_with_the_expected_title(string name)
    {
        var captured = CapturedRequest.Load(name);

        var response = await ReplayAsync(captured);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        Assert.Equal(captured.EnvelopeEventId(), id);
        using var api = _app.ApiClient(_tenant.Token);
        var stored = await StoredEvents.WaitForEventAsync(api, id);
        var issue = await StoredEvents.IssueOfAsync(api, stored);
        Assert.Equal(ExpectedTitles[name], issue.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("dotnet")]
    [InlineData("node")]
    public async Task Replayed_exceptions_from_one_call_site_are_one_issue(string sdk)
    {
        foreach (var attempt in new[] { 1, 2 })
        {
            var response = await ReplayAsync(CapturedRequest.Load($"{sdk}-exception-attempt-{attempt}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var api = _app.ApiClient(_tenant.Token);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        JsonElement issues;
        do
        {
            issues = await StoredEvents.IssuesAsync(api, _tenant.ProjectId);
        }
        while ((issues.GetArrayLength() == 0 || issues[0].GetProperty("count").GetInt64() < 2) && DateTimeOffset.UtcNow < deadline && await Delay());
        var issue = Assert.Single(issues.EnumerateArray());
        Assert.Equal(2, issue.GetProperty("count").GetInt64());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }

    private async Task<HttpResponseMessage> ReplayAsync(CapturedRequest captured)
    {
        var oldKey = captured.PublicKey();
        string Rewrite(string text) => text.Replace(oldKey, _tenant.PublicKey, StringComparison.Ordinal);

        var path = ApiPath().Replace(captured.Path, m => m.Groups["prefix"].Value + "/api/" + _tenant.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/");
        var envelope = Rewrite(Encoding.UTF8.GetString(captured.DecodedBody()));
        // A dsn in the envelope header names the project too.
        envelope = DsnProject().Replace(envelope, m => m.Groups["before"].Value + _tenant.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"", 1);
        var bytes = Encoding.UTF8.GetBytes(envelope);
        if (captured.IsGzip)
        {
            using var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                gzip.Write(bytes);
            }
            bytes = compressed.ToArray();
        }

        using var request = new HttpRequestMessage(new HttpMethod(captured.Method), path + Rewrite(captured.Query))
        {
            Content = new ByteArrayContent(bytes),
        };
        foreach (var (header, value) in captured.Headers)
        {
            if (SkippedHeaders.Contains(header))
            {
                continue;
            }
            if (header.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Content.Headers.TryAddWithoutValidation(header, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(header, Rewrite(value));
            }
        }
        return await _app.CreateClient().SendAsync(request);
    }

    [GeneratedRegex(@"^(?<prefix>.*)/api/(?<project>\d+)/")]
    private static partial Regex ApiPath();

    [GeneratedRegex("""(?<before>"dsn"\s*:\s*"[^"]*/)\d+" """)]
    private static partial Regex DsnProject();

    private sealed record CapturedRequest(string Method, string Path, string Query, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body)
    {
        public static CapturedRequest Load(string name)
        {
            using var meta = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(Folder, name + ".json")));
            var root = meta.RootElement;
            var headers = root.GetProperty("headers").EnumerateArray()
                .Select(pair => (pair[0].GetString()!, pair[1].GetString()!)).ToList();
            return new CapturedRequest(root.GetProperty("method").GetString()!, root.GetProperty("path").GetString()!,
                root.GetProperty("query").GetString()!, headers, File.ReadAllBytes(System.IO.Path.Combine(Folder, name + ".body")));
        }

        public string? Header(string name) =>
            Headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

        public bool IsGzip => Header("Content-Encoding") is { } encoding && encoding.Contains("gzip", StringComparison.OrdinalIgnoreCase);

        public byte[] DecodedBody()
        {
            if (!IsGzip)
            {
                return Body;
            }
            using var gzip = new GZipStream(new MemoryStream(Body), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            return plain.ToArray();
        }

        /// <summary>The key the SDK authenticated with: from X-Sentry-Auth or the sentry_key query parameter.</summary>
        public string PublicKey()
        {
            var source = (Header("X-Sentry-Auth") ?? "") + "&" + Query;
            return SentryKey().Match(source) is { Success: true } match
                ? match.Groups["key"].Value
                : throw new InvalidOperationException($"The captured request {Path} carries no sentry_key.");
        }

        public string EnvelopeEventId()
        {
            var body = DecodedBody();
            var end = Array.IndexOf(body, (byte)'\n');
            using var header = JsonDocument.Parse(body.AsMemory(0, end < 0 ? body.Length : end));
            return header.RootElement.GetProperty("event_id").GetString()!;
        }
    }

    [GeneratedRegex(@"sentry_key=(?<key>[0-9a-fA-F]+)")]
    private static partial Regex SentryKey();
}

public sealed class SqliteEnvelopeFixtureReplayTests() : EnvelopeFixtureReplayTests(StoreKind.Sqlite);

public sealed class PostgresEnvelopeFixtureReplayTests() : EnvelopeFixtureReplayTests(StoreKind.Postgres);

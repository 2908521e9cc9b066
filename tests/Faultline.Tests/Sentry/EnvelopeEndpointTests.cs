using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sentry;

/// <summary>
/// The Sentry endpoints' protocol handling with hand-made envelopes in the shapes each SDK sends;
/// the official SDKs themselves are exercised in SentryDotnetSdkTests and SentryNodeSdkTests.
/// </summary>
public sealed class EnvelopeEndpointTests : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _tenant = null!;
    private TestTenant _other = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:MaxDecompressedBodyBytes"] = (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _tenant = await _app.CreateTenantAsync("acme");
        _other = await _app.CreateTenantAsync("globex");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private string EnvelopePath => $"/api/{_tenant.ProjectId}/envelope/";

    private static string EventJson(string message) =>
        "{\"message\":\"" + message + "\",\"level\":\"error\",\"platform\":\"javascript\",\"timestamp\":1764000000.125,\"tags\":{\"browser\":\"Chrome\",\"build\":42}}";

    private static ByteArrayContent Content(byte[] body, string contentType = "application/x-sentry-envelope", string? encoding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }
        return content;
    }

    private async Task<HttpResponseMessage> PostAsync(string path, HttpContent content, string? authHeader = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (authHeader is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Sentry-Auth", authHeader);
        }
        return await _app.CreateClient().SendAsync(request);
    }

    private async Task<JsonElement?> StoredEventAsync(string eventId)
    {
        var response = await _app.ApiClient(_tenant.Token).GetAsync($"/api/v1/events/{eventId}");
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    [Fact]
    public async Task A_javascript_style_envelope_without_lengths_or_trailing_newline_is_stored_under_the_header_event_id()
    {
        const string id = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        var body = $"{{\"event_id\":\"{id}\",\"sent_at\":\"2026-11-25T10:00:00Z\",\"sdk\":{{\"name\":\"sentry.javascript.browser\",\"version\":\"11.12.0\"}}}}\n{{\"type\":\"event\"}}\n{EventJson("TypeError in checkout")}";

        var response = await PostAsync($"{EnvelopePath}?sentry_version=7&sentry_key={_tenant.PublicKey}&sentry_client=sentry.javascript.browser%2F11.12.0",
            Content(Encoding.UTF8.GetBytes(body), "text/plain;charset=UTF-8"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        var stored = await StoredEventAsync(id);
        Assert.Equal("TypeError in checkout", stored?.GetProperty("message").GetString());
        Assert.Equal("42", stored?.GetProperty("event").GetProperty("tags").GetProperty("build").GetString());
    }

    [Fact]
    public async Task A_dotnet_style_gzip_envelope_with_lengths_and_other_items_stores_only_the_event()
    {
        const string id = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        var eventPayload = Encoding.UTF8.GetBytes(EventJson("NullReferenceException in OrderService"));
        var attachment = new byte[] { 0x00, 0x0a, 0xff, 0x0a, 0x0a, 0x7b, 0x10 }; // binary with newlines and a brace
        using var envelope = new MemoryStream();
        void Line(string text) => envelope.Write(Encoding.UTF8.GetBytes(text + "\n"));
        Line($"{{\"event_id\":\"{id}\",\"sdk\":{{\"name\":\"sentry.dotnet\",\"version\":\"6.12.1\"}}}}");
        Line("{\"type\":\"session\",\"length\":17}");
        Line("{\"sid\":\"x\",\"n\":1}");
        Line($"{{\"type\":\"attachment\",\"length\":{attachment.Length},\"filename\":\"dump.bin\"}}");
        envelope.Write(attachment);
        envelope.WriteByte((byte)'\n');
        Line("{\"type\":\"something_new\"}");
        Line("{\"whatever\":true}");
        Line($"{{\"type\":\"event\",\"length\":{eventPayload.Length}}}");
        envelope.Write(eventPayload);
        envelope.WriteByte((byte)'\n');

        var response = await PostAsync(EnvelopePath, Content(Gzip(envelope.ToArray()), encoding: "gzip"),
            $"Sentry sentry_version=7,sentry_client=sentry.dotnet/6.12.1,sentry_key={_tenant.PublicKey}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = await StoredEventAsync(id);
        Assert.Equal("NullReferenceException in OrderService", stored?.GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_envelope_header_dsn_authenticates_a_tunnelled_envelope()
    {
        const string id = "cccccccccccccccccccccccccccccccc";
        var body = $"{{\"event_id\":\"{id}\",\"dsn\":\"{_tenant.Dsn}\"}}\n{{\"type\":\"event\"}}\n{EventJson("via tunnel")}\n";

        var response = await PostAsync(EnvelopePath, Content(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await StoredEventAsync(id));
    }

    [Fact]
    public async Task Missing_conflicting_and_foreign_keys_are_refused()
    {
        var body = Encoding.UTF8.GetBytes($"{{}}\n{{\"type\":\"event\"}}\n{EventJson("x")}");

        var missing = await PostAsync(EnvelopePath, Content(body));
        var conflicting = await PostAsync($"{EnvelopePath}?sentry_key={_other.PublicKey}", Content(body), $"Sentry sentry_key={_tenant.PublicKey}");
        var foreign = await PostAsync($"{EnvelopePath}?sentry_key={_other.PublicKey}", Content(body));
        var unknown = await PostAsync($"{EnvelopePath}?sentry_key=00000000000000000000000000000000", Content(body));

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, conflicting.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Contains("different project keys", (await conflicting.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_endpoint_takes_plain_and_legacy_base64_zlib_bodies()
    {
        var plain = await PostAsync($"/api/{_tenant.ProjectId}/store/?sentry_key={_tenant.PublicKey}",
            Content(Encoding.UTF8.GetBytes("""{"event_id":"dddddddddddddddddddddddddddddddd","message":"stored plainly"}"""), "application/json"));
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(Encoding.UTF8.GetBytes("""{"event_id":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","message":"raven style"}"""));
        }
        var legacy = await PostAsync($"/api/{_tenant.ProjectId}/store/", Content(Encoding.ASCII.GetBytes(Convert.ToBase64String(compressed.ToArray())), "application/octet-stream"),
            $"Sentry sentry_version=4, sentry_key={_tenant.PublicKey}, sentry_client=raven-python/5.0");

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);
        Assert.Equal("stored plainly", (await StoredEventAsync("dddddddddddddddddddddddddddddddd"))?.GetProperty("message").GetString());
        Assert.Equal("raven style", (await StoredEventAsync("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"))?.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_path_prefix_before_api_works_behind_a_reverse_proxy()
    {
        const string id = "ffffffffffffffffffffffffffffffff";
        var body = $"{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{EventJson("proxied")}";

        var response = await PostAsync($"/errors/sentry/api/{_tenant.ProjectId}/envelope/?sentry_key={_tenant.PublicKey}", Content(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await StoredEventAsync(id));
    }

    [Fact]
    public async Task Browsers_get_the_cors_headers_they_need()
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, EnvelopePath);
        preflight.Headers.Add("Origin", "https://shop.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,x-sentry-auth");
        var body = $"{{}}\n{{\"type\":\"event\"}}\n{EventJson("from a browser")}";
        var post = new HttpRequestMessage(HttpMethod.Post, $"{EnvelopePath}?sentry_key={_tenant.PublicKey}") { Content = Content(Encoding.UTF8.GetBytes(body), "text/plain;charset=UTF-8") };
        post.Headers.Add("Origin", "https://shop.example.com");

        var preflightResponse = await _app.CreateClient().SendAsync(preflight);
        var postResponse = await _app.CreateClient().SendAsync(post);

        Assert.Equal(HttpStatusCode.NoContent, preflightResponse.StatusCode);
        Assert.Equal("*", preflightResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("x-sentry-auth", string.Join(",", preflightResponse.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, postResponse.StatusCode);
        Assert.Equal("*", postResponse.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var exposed = string.Join(",", postResponse.Headers.GetValues("Access-Control-Expose-Headers"));
        Assert.Contains("X-Sentry-Rate-Limits", exposed, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Retry-After", exposed, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_zstd_body_is_accepted()
    {
        const string id = "12121212121212121212121212121212";
        var body = Encoding.UTF8.GetBytes($"{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{EventJson("zstd compressed")}");
        using var compressor = new ZstdSharp.Compressor();

        var response = await PostAsync($"{EnvelopePath}?sentry_key={_tenant.PublicKey}", Content(compressor.Wrap(body).ToArray(), encoding: "zstd"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await StoredEventAsync(id));
    }

    public static TheoryData<string, string, HttpStatusCode> HostileEnvelopes => new()
    {
        { "truncated item", "{}\n{\"type\":\"event\",\"length\":500}\n{\"message\":\"short\"}", HttpStatusCode.BadRequest },
        { "length too short", "{}\n{\"type\":\"event\",\"length\":5}\n{\"message\":\"longer than five\"}\n", HttpStatusCode.BadRequest },
        { "header not json", "not json at all\n{\"type\":\"event\"}\n{}", HttpStatusCode.BadRequest },
        { "item without type", "{}\n{\"length\":2}\n{}\n", HttpStatusCode.BadRequest },
        { "negative length", "{}\n{\"type\":\"event\",\"length\":-1}\n{}\n", HttpStatusCode.BadRequest },
        { "event not an object", "{}\n{\"type\":\"event\"}\n[1,2,3]", HttpStatusCode.BadRequest },
        { "event not json", "{}\n{\"type\":\"event\"}\n{\"message\": oops}", HttpStatusCode.BadRequest },
        { "empty body", "", HttpStatusCode.BadRequest },
        { "huge header line", "{\"pad\":\"" + new string('x', 100_000) + "\"}\n", HttpStatusCode.RequestEntityTooLarge },
        { "deep nesting", "{}\n{\"type\":\"event\"}\n{\"extra\":" + new string('[', 5000) + new string(']', 5000) + "}", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(HostileEnvelopes))]
    public async Task Hostile_envelopes_get_a_4xx_and_the_server_stays_healthy(string name, string body, HttpStatusCode expected)
    {
        var response = await PostAsync($"{EnvelopePath}?sentry_key={_tenant.PublicKey}", Content(Encoding.UTF8.GetBytes(body)));

        Assert.True(expected == response.StatusCode, $"{name}: expected {expected}, got {response.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Invalid_utf8_in_an_event_is_a_400()
    {
        var body = Encoding.UTF8.GetBytes("{}\n{\"type\":\"event\"}\n{\"message\":\"").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();

        var response = await PostAsync($"{EnvelopePath}?sentry_key={_tenant.PublicKey}", Content(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task Decompression_bombs_stop_at_the_limit(string encoding)
    {
        // 64 MiB of zeros inside an attachment: tiny on the wire, far over the 4 MiB test limit once inflated.
        var header = Encoding.UTF8.GetBytes($"{{}}\n{{\"type\":\"attachment\",\"length\":{64 * 1024 * 1024}}}\n");
        using var compressed = new MemoryStream();
        using (Stream encoder = encoding == "gzip" ? new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true) : new BrotliStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            encoder.Write(header);
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 64; i++)
            {
                encoder.Write(zeros);
            }
        }

        var response = await PostAsync($"{EnvelopePath}?sentry_key={_tenant.PublicKey}", Content(compressed.ToArray(), encoding: encoding));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/healthz")).StatusCode);
    }
}

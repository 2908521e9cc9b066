using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Faultline.Bench;

/// <summary>
/// Builds request bodies of native Faultline events. Events are rendered once into templates
/// (a few per distinct error, differing in tags, user, release, breadcrumbs); for each request a
/// template is copied and its event_id and timestamp are overwritten in place, so the client
/// spends its share of the CPU on sending, not on serialising.
/// </summary>
public sealed class EventGenerator
{
    private const string IdPlaceholder = "00000000000000000000000000000000";
    private const string TimePlaceholder = "2000-01-01T00:00:00.000Z";
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private static readonly byte[] IdKey = Encoding.UTF8.GetBytes("\"event_id\":\"");
    private static readonly byte[] TimeKey = Encoding.UTF8.GetBytes("\"timestamp\":\"");

    private readonly Template[] _templates;
    private readonly double _spreadMs;

    private sealed record Template(byte[] Json, int IdOffset, int TimeOffset);

    public EventGenerator(int distinct, double spreadDays, int seed)
    {
        var random = new Random(seed);
        var variants = Math.Clamp(4096 / distinct, 1, 8);
        _templates = new Template[distinct * variants];
        for (var d = 0; d < distinct; d++)
        {
            for (var v = 0; v < variants; v++)
            {
                _templates[(d * variants) + v] = Render(d, v, random);
            }
        }
        _spreadMs = spreadDays * 24 * 3600 * 1000;
    }

    public int TemplateCount => _templates.Length;

    public double AverageEventBytes => _templates.Average(t => t.Json.Length);

    public int MinEventBytes => _templates.Min(t => t.Json.Length);

    public int MaxEventBytes => _templates.Max(t => t.Json.Length);

    /// <summary>One finished event, as it would be sent, for eyeballing the payload.</summary>
    public string Sample(Random random)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteBody(buffer, 1, random);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes a body of <paramref name="batch"/> events (an object when 1, else an array) into <paramref name="buffer"/>.</summary>
    public void WriteBody(ArrayBufferWriter<byte> buffer, int batch, Random random)
    {
        buffer.ResetWrittenCount();
        if (batch > 1)
        {
            buffer.Write("["u8);
        }
        var now = DateTime.UtcNow;
        for (var i = 0; i < batch; i++)
        {
            if (i > 0)
            {
                buffer.Write(","u8);
            }
            var t = _templates[random.Next(_templates.Length)];
            var span = buffer.GetSpan(t.Json.Length);
            t.Json.CopyTo(span);
            WriteHexId(span.Slice(t.IdOffset, 32));
            var at = _spreadMs > 0 ? now.AddMilliseconds(-random.NextDouble() * _spreadMs) : now;
            at.TryFormat(span.Slice(t.TimeOffset, TimePlaceholder.Length), out _, TimeFormat, CultureInfo.InvariantCulture);
            buffer.Advance(t.Json.Length);
        }
        if (batch > 1)
        {
            buffer.Write("]"u8);
        }
    }

    /// <summary>The event_id of a single-event body written by <see cref="WriteBody"/>.</summary>
    public static string ReadEventId(ReadOnlySpan<byte> body)
    {
        var at = body.IndexOf(IdKey) + IdKey.Length;
        return Encoding.UTF8.GetString(body.Slice(at, IdPlaceholder.Length));
    }

    public static byte[] Gzip(ReadOnlySpan<byte> body)
    {
        using var output = new MemoryStream(body.Length / 3);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }
        return output.ToArray();
    }

    /// <summary>
    /// A fresh random id, never from the seeded generator: the seed makes the mix of events repeatable, but
    /// repeated ids would be stored once, so a second run against the same store (bench/run.sh warms the
    /// server up first) would measure duplicate detection instead of storage.
    /// </summary>
    private static void WriteHexId(Span<byte> target)
    {
        Span<byte> raw = stackalloc byte[16];
        Random.Shared.NextBytes(raw);
        const string hex = "0123456789abcdef";
        for (var i = 0; i < 16; i++)
        {
            target[2 * i] = (byte)hex[raw[i] >> 4];
            target[(2 * i) + 1] = (byte)hex[raw[i] & 0xF];
        }
    }

    /// <summary>Renders variant <paramref name="v"/> of distinct error <paramref name="d"/>.</summary>
    private static Template Render(int d, int v, Random random)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer))
        {
            // One event in five is a log message without an exception.
            var isMessage = d % 5 == 4;
            w.WriteStartObject();
            w.WriteString("event_id", IdPlaceholder);
            w.WriteString("timestamp", TimePlaceholder);
            w.WriteString("level", isMessage ? (d % 2 == 0 ? "warning" : "error") : (d % 10 == 3 ? "fatal" : "error"));
            if (isMessage)
            {
                w.WriteString("logger", $"{EventCatalog.Namespaces[d % 10]}.{EventCatalog.Classes[(d / 10) % 10]}");
            }
            w.WriteString("platform", "csharp");
            w.WriteString("release", EventCatalog.Releases[v % EventCatalog.Releases.Length]);
            w.WriteString("environment", v % 4 == 3 ? "staging" : "production");
            w.WriteString("server_name", $"web-{(v % 6) + 1}");
            if (isMessage)
            {
                w.WriteString("message", $"{EventCatalog.Messages[(d / 5) % EventCatalog.Messages.Length]} (site {d})");
            }

            w.WriteStartObject("tags");
            w.WriteString("route", EventCatalog.Routes[(d + v) % EventCatalog.Routes.Length]);
            w.WriteString("region", EventCatalog.Regions[random.Next(EventCatalog.Regions.Length)]);
            w.WriteString("customer_tier", EventCatalog.Tiers[random.Next(EventCatalog.Tiers.Length)]);
            w.WriteString("browser", EventCatalog.Browsers[random.Next(EventCatalog.Browsers.Length)]);
            w.WriteEndObject();

            var userId = random.Next(1, 50_000);
            w.WriteStartObject("user");
            w.WriteString("id", userId.ToString(CultureInfo.InvariantCulture));
            w.WriteString("email", $"user{userId}@example.com");
            w.WriteEndObject();

            if (!isMessage)
            {
                WriteException(w, d);
            }

            w.WriteStartArray("breadcrumbs");
            var crumbs = isMessage ? 2 + random.Next(2) : 1 + (v % 2);
            var crumbTime = DateTime.UtcNow.AddSeconds(-crumbs);
            for (var i = 0; i < crumbs; i++)
            {
                var (category, message, level) = EventCatalog.Breadcrumbs[random.Next(EventCatalog.Breadcrumbs.Length)];
                w.WriteStartObject();
                w.WriteString("timestamp", crumbTime.AddSeconds(i).ToString(TimeFormat, CultureInfo.InvariantCulture));
                w.WriteString("category", category);
                w.WriteString("message", message);
                w.WriteString("level", level);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (isMessage && d % 10 == 9)
            {
                w.WriteStartArray("fingerprint");
                w.WriteStringValue("bench-custom-group");
                w.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                w.WriteEndArray();
            }

            w.WriteStartObject("extra");
            w.WriteNumber("attempt", 1 + random.Next(3));
            if (isMessage)
            {
                w.WriteString("request_id", Guid.NewGuid().ToString("N"));
                // Log events carry their context in extra rather than in a stack.
                w.WriteString("url", $"https://shop.example.com{EventCatalog.Routes[(d + v) % EventCatalog.Routes.Length]}");
                w.WriteString("sql", "SELECT o.id, o.total, o.status FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.tenant_id = @tenant ORDER BY o.created_at DESC LIMIT 50");
                w.WriteNumber("elapsed_ms", 2000 + random.Next(8000));
                w.WriteString("thread", $".NET TP Worker #{random.Next(1, 32)}");
            }
            w.WriteEndObject();

            w.WriteStartObject("sdk");
            w.WriteString("name", "faultline.bench");
            w.WriteString("version", "1.0.0");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        var json = buffer.WrittenSpan.ToArray();
        var idOffset = json.AsSpan().IndexOf(IdKey) + IdKey.Length;
        var timeOffset = json.AsSpan().IndexOf(TimeKey) + TimeKey.Length;
        return new Template(json, idOffset, timeOffset);
    }

    /// <summary>
    /// The stack depends only on the distinct error index, never on the variant, so every
    /// variant of one error groups into the same issue whatever frames the server hashes.
    /// </summary>
    private static void WriteException(Utf8JsonWriter w, int d)
    {
        var (type, module, value) = EventCatalog.Exceptions[d % EventCatalog.Exceptions.Length];
        var site = d % 2000;
        var ns = EventCatalog.Namespaces[site % 10];
        var cls = ns[(ns.LastIndexOf('.') + 1)..] + EventCatalog.Classes[(site / 10) % 10];
        var method = EventCatalog.Methods[(site / 100) % EventCatalog.Methods.Length];
        var callerNs = EventCatalog.Namespaces[(d / 2000) % 10];
        var callerCls = callerNs[(callerNs.LastIndexOf('.') + 1)..] + "Endpoints";
        var callerMethod = EventCatalog.Methods[((d / 2000) + 7) % EventCatalog.Methods.Length];

        var frameCount = 8 + (d % 8);
        var inAppCount = 2 + (d % 4);

        w.WriteStartArray("exception");
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteString("value", value);
        w.WriteString("module", module);
        w.WriteStartObject("stacktrace");
        w.WriteStartArray("frames");
        // Caller first, crash site last: framework frames at the bottom of the stack, then app frames.
        for (var i = 0; i < frameCount - inAppCount; i++)
        {
            // Framework frames carry no file or line, as when the framework's symbols are not deployed.
            var (fModule, function, _) = EventCatalog.FrameworkFrames[(d + i) % EventCatalog.FrameworkFrames.Length];
            WriteFrame(w, null, function, fModule, null, inApp: false);
        }
        for (var i = 0; i < inAppCount; i++)
        {
            var last = i == inAppCount - 1;
            var (frameNs, frameCls, frameMethod) = last ? (ns, cls, method)
                : i == 0 ? (callerNs, callerCls, callerMethod)
                : (ns, cls + "Core", EventCatalog.Methods[(site + i) % EventCatalog.Methods.Length]);
            WriteFrame(w, $"{frameCls}.cs", frameMethod, $"{frameNs}.{frameCls}", 20 + ((d * 37) + (i * 11)) % 400, inApp: true, column: last);
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>A frame; only the crash site has a column, as in portable PDB stack traces of async code.</summary>
    private static void WriteFrame(Utf8JsonWriter w, string? file, string function, string module, int? line, bool inApp, bool column = false)
    {
        w.WriteStartObject();
        if (file is not null)
        {
            w.WriteString("filename", file);
        }
        w.WriteString("function", function);
        w.WriteString("module", module);
        if (line is { } l)
        {
            w.WriteNumber("lineno", l);
            if (column)
            {
                w.WriteNumber("colno", 9 + (l % 30));
            }
        }
        w.WriteBoolean("in_app", inApp);
        w.WriteEndObject();
    }
}

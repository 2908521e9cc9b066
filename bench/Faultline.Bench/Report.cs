using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Faultline.Bench;

/// <summary>A line run.sh writes itself: the server's resident memory after start, before any load.</summary>
public sealed record IdleRecord(string Mode, string Label, long RssKb);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(QueryResult))]
[JsonSerializable(typeof(IdleRecord))]
internal sealed partial class BenchJson : JsonSerializerContext;

/// <summary>Human summaries, JSON lines and the Markdown block for bench/RESULTS.md.</summary>
public static class Report
{
    private static string F(double value, string format = "0") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Mib(long? kb) => kb is { } k ? F(k / 1024.0, "0") : "-";

    private static string Statuses(IReadOnlyDictionary<string, long> statuses) =>
        string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}"));

    public static string ToJson(IngestResult r) => JsonSerializer.Serialize(r, BenchJson.Default.IngestResult);

    public static string ToJson(QueryResult r) => JsonSerializer.Serialize(r, BenchJson.Default.QueryResult);

    public static void PrintHuman(TextWriter w, IngestResult r, EventGenerator generator)
    {
        var pacing = r.RateTarget is { } rate ? $"open loop at {F(rate)} events/s" : "closed loop";
        w.WriteLine($"{r.Mode} -> {r.Target}: {r.Concurrency} connections, {r.Batch} event(s)/request, {pacing}{(r.Gzip ? ", gzip" : "")}");
        w.WriteLine($"  events: {r.Distinct} distinct errors, {generator.TemplateCount} templates, {generator.MinEventBytes}-{generator.MaxEventBytes} bytes (avg {F(r.AvgEventBytes)}), avg body {F(r.AvgBodyBytes)} bytes");
        w.WriteLine($"  window: {F(r.WindowSeconds, "0.0")} s after {F(r.WarmupSeconds, "0.#")} s warm-up");
        w.WriteLine($"  accepted: {F(r.EventsPerSecond)} events/s, {F(r.RequestsPerSecond)} requests/s ({r.Events} events, {r.Requests} requests)");
        PrintLatency(w, "ack latency", r.LatencyMs);
        if (r.ServiceMs is { } service)
        {
            PrintLatency(w, "service time", service);
        }
        w.WriteLine($"  statuses: {Statuses(r.Statuses)}; errors: {r.Errors}");
        if (r.ServerRssAfterKb is not null)
        {
            var peakNote = r.PeakRssIsThisRun ? "this run" : "since server start";
            w.WriteLine($"  server RSS: before {Mib(r.ServerRssBeforeKb)} MiB, after {Mib(r.ServerRssAfterKb)} MiB, peak {Mib(r.ServerPeakRssKb)} MiB ({peakNote}), sampled peak {Mib(r.ServerPeakRssSampledKb)} MiB");
        }
    }

    private static void PrintLatency(TextWriter w, string name, LatencySummary l) =>
        w.WriteLine($"  {name} ms: p50 {F(l.P50, "0.00")}  p90 {F(l.P90, "0.00")}  p99 {F(l.P99, "0.00")}  max {F(l.Max, "0.00")}  mean {F(l.Mean, "0.00")}  (n={l.Count})");

    public static void PrintHuman(TextWriter w, QueryResult r)
    {
        w.WriteLine($"query: project {r.Project}, {r.Repetitions} repetitions each, one at a time");
        foreach (var q in r.Queries)
        {
            w.WriteLine($"  {q.Name,-24} p50 {F(q.LatencyMs.P50, "0.00"),8}  p95 {F(q.LatencyMs.P95, "0.00"),8}  p99 {F(q.LatencyMs.P99, "0.00"),8}  max {F(q.LatencyMs.Max, "0.00"),8} ms  items {q.Items}  [{Statuses(q.Statuses)}]");
        }
    }

    /// <summary>Turns the JSON lines of one run.sh invocation into a Markdown block.</summary>
    public static string MarkdownTable(IEnumerable<string> lines, string command)
    {
        var ingest = new List<IngestResult>();
        var queries = new List<QueryResult>();
        var idle = new List<IdleRecord>();
        foreach (var line in lines.Where(l => l.TrimStart().StartsWith('{')))
        {
            using var doc = JsonDocument.Parse(line);
            switch (doc.RootElement.GetProperty("mode").GetString())
            {
                case "ingest" or "seed":
                    ingest.Add(JsonSerializer.Deserialize(line, BenchJson.Default.IngestResult)!);
                    break;
                case "query":
                    queries.Add(JsonSerializer.Deserialize(line, BenchJson.Default.QueryResult)!);
                    break;
                case "idle":
                    idle.Add(JsonSerializer.Deserialize(line, BenchJson.Default.IdleRecord)!);
                    break;
                default:
                    break;
            }
        }

        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"### {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{command}`");
        sb.AppendLine("- Load generator and server share the machine; compare ratios within this block, not absolute figures across machines.");
        sb.AppendLine();
        sb.AppendLine("| Store | Run | Conn | Batch | Events/s | Req/s | p50 ms | p90 ms | p99 ms | max ms | Non-2xx | Server peak RSS MiB |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var r in ingest)
        {
            var run = r.Mode == "seed" ? $"seed {r.Events} events"
                : r.Target == "discard" ? "discard (ceiling)"
                : r.Target == "sentry" ? "sentry envelope, gzip (closed loop)"
                : r.RateTarget is { } rate ? $"native @ {F(rate)} ev/s (open loop)"
                : "native (closed loop)";
            if (r.Gzip)
            {
                run += ", gzip";
            }
            var l = r.LatencyMs;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Label} | {run} | {r.Concurrency} | {r.Batch} | {F(r.EventsPerSecond)} | {F(r.RequestsPerSecond)} | {F(l.P50, "0.00")} | {F(l.P90, "0.00")} | {F(l.P99, "0.00")} | {F(l.Max, "0.0")} | {r.Errors} | {Mib(r.ServerPeakRssKb)} |");
        }

        sb.AppendLine();
        sb.AppendLine("| Store | Idle RSS MiB | Peak RSS MiB (native) | Native / discard events/s | Sentry / native events/s | p99 ms at half of peak |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|");
        foreach (var label in ingest.Select(r => r.Label).Concat(idle.Select(i => i.Label)).Distinct())
        {
            var mine = ingest.Where(r => r.Label == label && r.Mode == "ingest").ToList();
            var discard = mine.FirstOrDefault(r => r.Target == "discard" && r.RateTarget is null);
            var native = mine.FirstOrDefault(r => r.Target == "native" && r.RateTarget is null);
            var half = mine.FirstOrDefault(r => r.Target == "native" && r.RateTarget is not null);
            var sentry = mine.FirstOrDefault(r => r.Target == "sentry" && r.RateTarget is null);
            var sentryRatio = sentry is not null && native is { EventsPerSecond: > 0 }
                ? F(sentry.EventsPerSecond / native.EventsPerSecond, "0.00") : "-";
            var idleKb = idle.FirstOrDefault(i => i.Label == label)?.RssKb;
            var peak = mine.Where(r => r.Target == "native").Select(r => r.ServerPeakRssKb).Max();
            var ratio = discard is { EventsPerSecond: > 0 } && native is not null
                ? F(native.EventsPerSecond / discard.EventsPerSecond, "0.00") : "-";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {label} | {Mib(idleKb)} | {Mib(peak)} | {ratio} | {sentryRatio} | {(half is null ? "-" : F(half.LatencyMs.P99, "0.00"))} |");
        }

        if (queries.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| Store | Query | Reps | p50 ms | p95 ms | p99 ms | max ms | Items | Statuses |");
            sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|---|");
            foreach (var r in queries)
            {
                foreach (var q in r.Queries)
                {
                    var l = q.LatencyMs;
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"| {r.Label} | `{q.Path}` | {r.Repetitions} | {F(l.P50, "0.00")} | {F(l.P95, "0.00")} | {F(l.P99, "0.00")} | {F(l.Max, "0.0")} | {q.Items} | {Statuses(q.Statuses)} |");
                }
            }
        }
        return sb.ToString();
    }

    /// <summary>nproc, CPU model, memory and OS, read from /proc where available.</summary>
    public static string Machine()
    {
        var model = ReadProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memKb = ReadProcField("/proc/meminfo", "MemTotal")?.Replace("kB", "", StringComparison.Ordinal).Trim();
        var mem = long.TryParse(memKb, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb)
            ? $"{F(kb / 1024.0 / 1024.0, "0.0")} GiB RAM" : "unknown RAM";
        return $"nproc {Environment.ProcessorCount}, {model}, {mem}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }

    private static string? ReadProcField(string file, string name)
    {
        if (!File.Exists(file))
        {
            return null;
        }
        foreach (var line in File.ReadLines(file))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == name)
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return null;
    }
}

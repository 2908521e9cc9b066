using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Faultline.Bench;

/// <summary>
/// Issue 6's two figures against a running server (bench/alerts.sh starts one):
/// (a) from the 202 of the event that crosses a threshold rule to its webhook arriving at a local receiver
/// started here (both instants on this process's Stopwatch), over several firings;
/// (b) native ingest throughput alternating between 0 and 50 alert rules, in one run.
/// </summary>
public static class AlertsRunner
{
    public const string Usage = """
        usage: faultline-bench alerts --url URL --token TOKEN --key KEY --org SLUG --project ID
                 [--firings 20] [--threshold 5] [--rules 50] [--rounds 3] [--duration 15] [--warmup 5] [--concurrency 64] [--server-pid PID]
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string Arg(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required\n{Usage}");
        }
        int Int(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var url = new Uri(Arg("--url").TrimEnd('/') + "/");
        var token = Arg("--token");
        var key = Arg("--key");
        var org = Arg("--org");
        var project = long.Parse(Arg("--project"), CultureInfo.InvariantCulture);
        var firings = Int("--firings", 20);
        var threshold = Int("--threshold", 5);
        var rules = Int("--rules", 50);
        var duration = Int("--duration", 15);
        var warmup = Int("--warmup", 5);
        var concurrency = Int("--concurrency", 64);
        var rounds = Int("--rounds", 3);
        var serverPid = args.Contains("--server-pid") ? Arg("--server-pid") : null;

        using var api = new HttpClient { BaseAddress = url };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var ingest = new HttpClient { BaseAddress = url };
        ingest.DefaultRequestHeaders.Add("X-Faultline-Key", key);

        // ---- (a) notification latency -------------------------------------------------------
        using var receiver = new Receiver();
        var channel = await PostAsync(api, $"api/v1/organizations/{org}/alert-channels",
            new { name = "bench receiver", type = "webhook", url = receiver.Url, secret = "bench-secret-0123456789" }, cancellationToken);
        const int windowSeconds = 2;
        var rule = await PostAsync(api, $"api/v1/projects/{project}/alert-rules", new
        {
            name = "bench threshold", type = "threshold", threshold, windowSeconds, level = "error", environment = "alert-bench",
            cooldownSeconds = 0, channelIds = new[] { channel },
        }, cancellationToken);

        var latencies = new List<double>();
        var missed = 0;
        for (var round = 0; round < firings; round++)
        {
            // threshold events fill the window without crossing it ("more than N"); the next one crosses it.
            await SendAsync(ingest, Events(threshold, round), cancellationToken);
            await Task.Delay(500, cancellationToken);
            var arrivedBefore = receiver.Arrivals.Count;
            await SendAsync(ingest, Events(1, round), cancellationToken);
            var acknowledged = Stopwatch.GetTimestamp();
            var deadline = acknowledged + (10 * Stopwatch.Frequency);
            while (receiver.Arrivals.Count == arrivedBefore && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(1, cancellationToken);
            }
            if (receiver.Arrivals.Count == arrivedBefore)
            {
                missed++;
            }
            else
            {
                latencies.Add(Stopwatch.GetElapsedTime(acknowledged, receiver.Arrivals.ToArray()[arrivedBefore]).TotalMilliseconds);
            }
            // Let the 2 s window empty before the next round.
            await Task.Delay(TimeSpan.FromSeconds(windowSeconds + 1), cancellationToken);
        }
        await DeleteAsync(api, $"api/v1/alert-rules/{rule}", cancellationToken);
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Clamp((int)Math.Ceiling(q * latencies.Count) - 1, 0, latencies.Count - 1)];
        Console.Error.WriteLine($"notification latency over {latencies.Count} firings ({missed} missed): p50 {At(0.5):0.0} ms, p95 {At(0.95):0.0} ms, max {At(1):0.0} ms");

        // ---- (b) ingest with 0, 50, 0 rules ---------------------------------------------------
        async Task<IngestResult> Ingest(string label)
        {
            var options = BenchOptions.Parse([
                "ingest", "--url", url.ToString(), "--key", key, "--target", "native", "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture),
                "--duration", duration.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--label", label,
                .. serverPid is null ? Array.Empty<string>() : ["--server-pid", serverPid]]);
            var result = await new IngestRunner(options, new EventGenerator(options.Distinct, options.SpreadDays, options.Seed)).RunAsync(cancellationToken);
            Console.Error.WriteLine($"{label}: {result.EventsPerSecond:0} events/s, p50 {result.LatencyMs.P50:0.0} ms, p99 {result.LatencyMs.P99:0.0} ms, non-2xx {result.Errors}");
            return result;
        }

        // Alternating runs (0, N, 0, N, ..., 0 rules) so that drift in the machine's load hits both sides alike.
        // One unmeasured run first: the server's JIT and the store warm up before the first 0-rule figure.
        await Ingest("warm-up (not counted)");
        var zero = new List<IngestResult>();
        var withRules = new List<IngestResult>();
        double? dropped = 0;
        for (var r = 0; r < rounds; r++)
        {
            zero.Add(await Ingest($"0 rules, run {r + 1}"));
            var ids = new List<long>();
            for (var i = 0; i < rules; i++)
            {
                ids.Add(await PostAsync(api, $"api/v1/projects/{project}/alert-rules", RuleFor(i), cancellationToken));
            }
            var dropsBefore = await DroppedBatchesAsync(api, cancellationToken);
            withRules.Add(await Ingest($"{rules} rules, run {r + 1}"));
            var dropsAfter = await DroppedBatchesAsync(api, cancellationToken);
            dropped = dropped is null || dropsBefore is null || dropsAfter is null ? null : dropped + (dropsAfter - dropsBefore);
            foreach (var id in ids)
            {
                await DeleteAsync(api, $"api/v1/alert-rules/{id}", cancellationToken);
            }
        }
        zero.Add(await Ingest($"0 rules, run {rounds + 1}"));
        var baseline = zero.Average(z => z.EventsPerSecond);
        var loaded = withRules.Average(w => w.EventsPerSecond);
        // Each N-rule run against the mean of the 0-rule runs just before and after it, so a trend in the
        // machine's load cancels out; the cost is the mean of those ratios.
        var ratios = withRules.Select((w, i) => w.EventsPerSecond / ((zero[i].EventsPerSecond + zero[i + 1].EventsPerSecond) / 2)).ToList();
        var cost = (1 - ratios.Average()) * 100;

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            mode = "alerts",
            firings,
            threshold,
            delivered = latencies.Count,
            missed,
            latency_ms = new { p50 = At(0.5), p95 = At(0.95), max = At(1), all = latencies.Select(l => Math.Round(l, 1)) },
            ingest = new
            {
                concurrency,
                duration,
                rules,
                rounds,
                zero_rules_mean = Math.Round(baseline),
                with_rules_mean = Math.Round(loaded),
                zero_rules_runs = zero.Select(z => Math.Round(z.EventsPerSecond)),
                with_rules_runs = withRules.Select(w => Math.Round(w.EventsPerSecond)),
                ratios_to_neighbours = ratios.Select(r => Math.Round(r, 3)),
                cost_percent = Math.Round(cost, 1),
                non_2xx = zero.Sum(z => z.Errors) + withRules.Sum(w => w.Errors),
                evaluator_batches_dropped_with_rules = dropped,
            },
        }, new JsonSerializerOptions { WriteIndented = false }));
        return missed == 0 ? 0 : 1;
    }

    /// <summary>Fifty rules of every type over the generated events: windows, issue windows, new-issue and regression checks, with filters and queries.</summary>
    private static object RuleFor(int i) => (i % 5) switch
    {
        0 => new { name = $"bench {i}", type = "threshold", threshold = 100_000, windowSeconds = 60, level = "error" },
        1 => new { name = $"bench {i}", type = "threshold", threshold = 100_000, windowSeconds = 300, environment = "production", query = "exception.type:TimeoutException" },
        2 => (object)new { name = $"bench {i}", type = "issue_frequency", threshold = 100_000, windowSeconds = 60, level = "warning" },
        3 => new { name = $"bench {i}", type = "new_issue", level = "error" },
        _ => new { name = $"bench {i}", type = "regression" },
    };

    private static string Events(int count, int round)
    {
        var one = $$$"""{"level":"error","environment":"alert-bench","release":"bench","message":"alert bench round {{{round}}}","exception":[{"type":"AlertBenchException","value":"threshold crossing","stacktrace":{"frames":[{"module":"Bench","function":"Run","in_app":true,"filename":"Bench.cs","lineno":1}]}}]}""";
        return "[" + string.Join(",", Enumerable.Repeat(one, count)) + "]";
    }

    private static async Task SendAsync(HttpClient ingest, string json, CancellationToken cancellationToken)
    {
        using var response = await ingest.PostAsync("api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static async Task<long> PostAsync(HttpClient api, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await api.PostAsJsonAsync(path, body, Json, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetInt64();
    }

    private static async Task DeleteAsync(HttpClient api, string path, CancellationToken cancellationToken)
    {
        using var response = await api.DeleteAsync(path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"DELETE {path} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>faultline_alerts_batches_dropped_total from /metrics, or null when the server does not export it.</summary>
    private static async Task<double?> DroppedBatchesAsync(HttpClient api, CancellationToken cancellationToken)
    {
        try
        {
            var text = await api.GetStringAsync("metrics", cancellationToken);
            // A counter never incremented may be absent while its family is declared: that is 0.
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("faultline_alerts_batches_dropped", StringComparison.Ordinal));
            return line is not null ? double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)
                : text.Contains("faultline_", StringComparison.Ordinal) ? 0 : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>A webhook receiver on a loopback port that timestamps each request's arrival.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();

        public Receiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public ConcurrentQueue<long> Arrivals { get; } = new();

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                // The headers have arrived: the notification has left Faultline.
                Arrivals.Enqueue(Stopwatch.GetTimestamp());
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }

        public void Dispose() => _listener.Close();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Faultline.Bench;

/// <summary>
/// syslog mode: the same log lines sent as RFC 5424 over TCP (1 and N connections) and as native JSON
/// events over HTTP, each run timed until the server's accepted counter (GET /metrics,
/// faultline_events_accepted_total) has counted every line, so the figure is stored lines per second.
/// </summary>
public static class SyslogRunner
{
    public const string Usage = "faultline-bench syslog --url URL --key KEY --port SYSLOG_PORT [--lines N] [--connections 1,16] [--native-batches 1,100] [--warmup-seconds 60] [--repeat 3]";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        string Arg(string name, string? fallback = null)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required. {Usage}");
        }
        var url = new Uri(Arg("--url"));
        var key = Arg("--key");
        var port = int.Parse(Arg("--port"), CultureInfo.InvariantCulture);
        var lines = int.Parse(Arg("--lines", "100000"), CultureInfo.InvariantCulture);
        var connections = Arg("--connections", "1,16").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        var batches = Arg("--native-batches", "1,100").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Faultline-Key", key);

        var messages = Enumerable.Range(0, lines).Select(Message).ToArray();
        Console.Error.WriteLine($"{lines} lines, {messages.Average(m => m.Length):0} characters of message on average");
        var warmup = TimeSpan.FromSeconds(double.Parse(Arg("--warmup-seconds", "60"), CultureInfo.InvariantCulture));
        var repeat = int.Parse(Arg("--repeat", "3"), CultureInfo.InvariantCulture);

        // Warm-up, not measured: the server's JIT tiers its code up (with dynamic PGO) over its first
        // minute under load, so a run made early is slower than the same run made later. Alternating
        // both paths until the warm-up time is over puts every measured run on a server at full speed.
        var warm = Stopwatch.StartNew();
        var sample = messages[..Math.Min(10000, lines)];
        while (warm.Elapsed < warmup)
        {
            await SyslogAsync(url.Host, port, sample, connections.Max(), http, cancellationToken);
            await NativeAsync(http, sample, connections.Max(), batches.Max(), cancellationToken);
        }

        // Each run is repeated in rounds (every configuration once per round) and its median is
        // reported, so a slow moment of the machine does not fall on one configuration only.
        var runs = connections.SelectMany(c => new[] { ("syslog TCP", c, 0) }.Concat(batches.Select(b => ("native HTTP", c, b)))).ToList();
        var figures = runs.ToDictionary(r => r, _ => new List<double>());
        for (var round = 0; round < repeat; round++)
        {
            foreach (var (run, c, b) in runs)
            {
                figures[(run, c, b)].Add(run == "syslog TCP"
                    ? await SyslogAsync(url.Host, port, messages, c, http, cancellationToken)
                    : await NativeAsync(http, messages, c, b, cancellationToken));
            }
        }
        var results = runs.Select(r => (Run: r.Item1, Connections: r.Item2, Batch: r.Item3, PerSecond: Median(figures[r]))).ToList();
        Console.Error.WriteLine(string.Join(Environment.NewLine, runs.Select(r => $"{r.Item1} x{r.Item2} batch {r.Item3}: {string.Join(", ", figures[r].Select(f => f.ToString("0", CultureInfo.InvariantCulture)))}")));
        Console.WriteLine($"Warm-up {warmup.TotalSeconds:0} s (both paths, not measured); each figure is the median of {repeat} rounds.");
        Console.WriteLine();
        Console.WriteLine("| Run | Connections | Events per request | Lines/s stored | Syslog / this |");
        Console.WriteLine("|---|--:|--:|--:|--:|");
        foreach (var r in results)
        {
            var syslog = results.First(s => s.Run == "syslog TCP" && s.Connections == r.Connections).PerSecond;
            var batch = r.Batch == 0 ? "stream" : r.Batch.ToString(CultureInfo.InvariantCulture);
            var ratio = r.Run == "syslog TCP" ? "" : (syslog / r.PerSecond).ToString("0.00", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {r.Run} | {r.Connections} | {batch} | {r.PerSecond:0} | {ratio} |");
        }
        return 0;
    }

    /// <summary>
    /// Each line its own time, 10 µs apart, as a container's lines have (Docker's syslog driver stamps every
    /// line, to the microsecond with rfc5424micro). One time shared by all 50,000 lines would order the
    /// store's time indexes by random event id, a write pattern no real sender produces.
    /// </summary>
    private static DateTimeOffset LineTime(DateTimeOffset start, int line) => start.AddTicks(line * 100L);

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Message(int i) => (i % 20) switch
    {
        0 => $"ERROR payment failed for order {i}: gateway timeout after 3000 ms",
        _ => $"GET /api/orders/{i} 200 {i % 97} ms user={i % 1000} trace=4bf92f3577b34da6a3ce929d0e0e{i % 10000:0000}",
    };

    private static async Task<long> AcceptedAsync(HttpClient http, string endpoint, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync("/metrics", cancellationToken);
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("faultline_events_accepted", StringComparison.Ordinal) && line.Contains($"endpoint=\"{endpoint}\"", StringComparison.Ordinal))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    private static async Task WaitForAcceptedAsync(HttpClient http, string endpoint, long target, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (await AcceptedAsync(http, endpoint, cancellationToken) < target)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new InvalidOperationException($"the server did not accept all {endpoint} lines within 3 minutes");
            }
            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task<double> SyslogAsync(string host, int port, string[] messages, int connections, HttpClient http, CancellationToken cancellationToken)
    {
        var before = await AcceptedAsync(http, "syslog", cancellationToken);
        var start = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            using var client = new TcpClient { NoDelay = false };
            await client.ConnectAsync(host, port, cancellationToken);
            var stream = client.GetStream();
            var buffer = new StringBuilder();
            for (var i = c; i < messages.Length; i += connections)
            {
                var severity = messages[i].StartsWith("ERROR", StringComparison.Ordinal) ? 11 : 14;
                buffer.Append(CultureInfo.InvariantCulture, $"<{severity}>1 {LineTime(start, i).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)} benchhost shop/0123456789ab 1 shop/0123456789ab - {messages[i]}\n");
                if (buffer.Length > 32 * 1024)
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(buffer.ToString()), cancellationToken);
                    buffer.Clear();
                }
            }
            await stream.WriteAsync(Encoding.UTF8.GetBytes(buffer.ToString()), cancellationToken);
        }));
        await WaitForAcceptedAsync(http, "syslog", before + messages.Length, cancellationToken);
        return messages.Length / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> NativeAsync(HttpClient http, string[] messages, int connections, int batch, CancellationToken cancellationToken)
    {
        var start = DateTimeOffset.UtcNow;
        var bodies = messages.Select((m, i) => (Message: m, Time: LineTime(start, i).ToString("O", CultureInfo.InvariantCulture))).Chunk(batch).Select(chunk => "[" + string.Join(',', chunk.Select(line =>
            $$$"""{"message":"{{{line.Message}}}","level":"{{{(line.Message.StartsWith("ERROR", StringComparison.Ordinal) ? "error" : "info")}}}","timestamp":"{{{line.Time}}}","logger":"shop/0123456789ab","server_name":"benchhost","tags":{"container_name":"shop","container_id":"0123456789ab","host":"benchhost","log_source":"syslog","listener":"bench"}}""")) + "]").ToArray();
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < bodies.Length)
            {
                using var content = new StringContent(bodies[i], Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("/api/v1/events", content, cancellationToken);
                if ((int)response.StatusCode != 202)
                {
                    throw new InvalidOperationException($"native ingest answered {(int)response.StatusCode}");
                }
            }
        }));
        return messages.Length / watch.Elapsed.TotalSeconds;
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Faultline.Bench;

/// <summary>
/// Dashboard benchmarks (issue 5), each printing Markdown rows for bench/RESULTS.md:
/// <c>pages</c> signs in like a browser and times the server render of the issues, issue detail and
/// events pages; <c>live</c> subscribes to /api/v1/live and times each event from its 202 to its arrival
/// while events are posted in open loop.
/// </summary>
public static partial class DashboardRunner
{
    public const string Usage = """
        usage: faultline-bench pages --url URL --token TOKEN --project ID --email EMAIL --password PASSWORD [--repetitions 50]
               faultline-bench live  --url URL --token TOKEN --project ID --key KEY [--rate 1000] [--duration 30] [--warmup 5] [--subscribers 1]
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }
        string Required(string name) => options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        double Number(string name, double fallback) =>
            options.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
        try
        {
            var url = new Uri(Required("url").TrimEnd('/') + "/");
            var token = Required("token");
            var project = long.Parse(Required("project"), CultureInfo.InvariantCulture);
            return args[0] == "pages"
                ? await PagesAsync(url, token, project, Required("email"), Required("password"), (int)Number("repetitions", 50), cancellationToken)
                : await LiveAsync(url, token, project, Required("key"), Number("rate", 1000), Number("duration", 30), Number("warmup", 5),
                    (int)Number("subscribers", 1), cancellationToken);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    // ---- pages ---------------------------------------------------------------------------------

    private static async Task<int> PagesAsync(Uri url, string token, long project, string email, string password, int repetitions, CancellationToken cancellationToken)
    {
        using var browser = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
        })
        { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        await SignInAsync(browser, email, password, cancellationToken);

        using var api = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var (large, largeCount) = await FirstIssueAsync(api, $"api/v1/projects/{project}/issues?sort=count&limit=1", cancellationToken);
        var (small, smallCount) = await SmallIssueAsync(api, project, cancellationToken);
        var nextCursor = await NextCursorAsync(api, $"api/v1/projects/{project}/issues?sort=last_seen&limit=50", cancellationToken);

        var pages = new List<(string Name, string Path)>
        {
            ("issues, sort last seen", $"projects/{project}/issues"),
            ("issues, sort last seen, page 2", $"projects/{project}/issues?cursor={Uri.EscapeDataString(nextCursor ?? "")}"),
            ("issues, sort count", $"projects/{project}/issues?sort=count"),
            ("issues, sort first seen", $"projects/{project}/issues?sort=first_seen"),
            ("issues, query level:error", $"projects/{project}/issues?query={Uri.EscapeDataString("level:error")}"),
            ("issues, query \"timeout\" 24 h", $"projects/{project}/issues?query={Uri.EscapeDataString("\"timeout\"")}&period=24h"),
            ($"issue detail, large ({largeCount:N0} events)", $"issues/{large}"),
            ($"issue detail, small ({smallCount:N0} events)", $"issues/{small}"),
            ("events explorer", $"projects/{project}/events"),
            ("events explorer, query environment:production level:error", $"projects/{project}/events?query={Uri.EscapeDataString("environment:production level:error")}"),
        };

        Console.WriteLine("| Page | Path | Reps | p50 ms | p95 ms | p99 ms | max ms | KiB | ≤ 150 ms at p95 |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|---|");
        var allMet = true;
        foreach (var (name, path) in pages)
        {
            var samples = new List<long>(repetitions);
            long bytes = 0;
            for (var i = 0; i < 3 + repetitions; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await browser.GetAsync(path, cancellationToken);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                var elapsed = Stopwatch.GetTimestamp() - started;
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET /{path} answered {(int)response.StatusCode}");
                }
                bytes = body.Length;
                if (i >= 3)
                {
                    samples.Add(elapsed);
                }
            }
            var latency = LatencySummary.FromTicks(samples);
            var met = latency.P95 <= 150;
            allMet &= met;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | `/{path.Split('?')[0]}{(path.Contains('?') ? "?" + Shorten(path.Split('?', 2)[1]) : "")}` | {samples.Count} | {latency.P50:0.0} | {latency.P95:0.0} | {latency.P99:0.0} | {latency.Max:0.0} | {bytes / 1024} | {(met ? "yes" : "no")} |"));
        }
        return allMet ? 0 : 3;
    }

    private static string Shorten(string query) => query.StartsWith("cursor=", StringComparison.Ordinal) ? "cursor=…" : Uri.UnescapeDataString(query);

    private static async Task SignInAsync(HttpClient browser, string email, string password, CancellationToken cancellationToken)
    {
        var html = await browser.GetStringAsync("login", cancellationToken);
        var token = AntiforgeryToken().Match(html);
        if (!token.Success)
        {
            throw new InvalidOperationException("the sign-in page has no antiforgery token");
        }
        using var response = await browser.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token.Groups[1].Value,
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"sign-in answered {(int)response.StatusCode}, expected a redirect");
        }
    }

    private static async Task<(long Id, long Count)> FirstIssueAsync(HttpClient api, string path, CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync(path, cancellationToken));
        var first = doc.RootElement.GetProperty("items")[0];
        return (first.GetProperty("id").GetInt64(), first.GetProperty("count").GetInt64());
    }

    /// <summary>The issue with the fewest events among the 50 seen last.</summary>
    private static async Task<(long Id, long Count)> SmallIssueAsync(HttpClient api, long project, CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync($"api/v1/projects/{project}/issues?sort=last_seen&limit=50", cancellationToken));
        var smallest = doc.RootElement.GetProperty("items").EnumerateArray().MinBy(i => i.GetProperty("count").GetInt64());
        return (smallest.GetProperty("id").GetInt64(), smallest.GetProperty("count").GetInt64());
    }

    private static async Task<string?> NextCursorAsync(HttpClient api, string path, CancellationToken cancellationToken)
    {
        using var doc = JsonDocument.Parse(await api.GetStringAsync(path, cancellationToken));
        return doc.RootElement.GetProperty("nextCursor").GetString();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    // ---- live ----------------------------------------------------------------------------------

    private static async Task<int> LiveAsync(Uri url, string token, long project, string key, double rate, double durationSeconds, double warmupSeconds,
        int subscribers, CancellationToken cancellationToken)
    {
        var acked = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var arrivals = Enumerable.Range(0, subscribers).Select(_ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal)).ToArray();
        var dropped = new long[subscribers];
        using var stopReceiving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var sockets = new List<ClientWebSocket>();
        var receivers = new List<Task>();
        for (var s = 0; s < subscribers; s++)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            var ws = new UriBuilder(url) { Scheme = url.Scheme == "https" ? "wss" : "ws", Path = "api/v1/live", Query = $"project={project}" }.Uri;
            await socket.ConnectAsync(ws, cancellationToken);
            sockets.Add(socket);
            var index = s;
            receivers.Add(Task.Run(() => ReceiveAsync(socket, arrivals[index], dropped, index, stopReceiving.Token), cancellationToken));
        }

        var generator = new EventGenerator(50, 0, 7);
        using var client = new HttpMessageInvoker(IngestRunner.CreateHandler(256));
        var endpoint = new Uri(url, "api/v1/events");
        var freq = Stopwatch.Frequency;
        var start = Shared.ElapsedTicks;
        var total = (long)(rate * (warmupSeconds + durationSeconds));
        var warmupCount = (long)(rate * warmupSeconds);
        var ackLatency = new ConcurrentBag<long>();
        var failures = 0L;
        var inFlight = new List<Task>();
        // Event ids come from this generator: a fixed seed would repeat the previous run's ids on a kept
        // cluster (--reuse), and the server stores, and so publishes, an id only once.
        var random = new Random();
        var buffer = new ArrayBufferWriter<byte>(4096);
        var measured = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(256);
        for (long k = 0; k < total; k++)
        {
            var due = start + (long)(k * freq / rate);
            while (Shared.ElapsedTicks < due)
            {
                await Task.Delay(1, cancellationToken);
            }
            generator.WriteBody(buffer, 1, random);
            var body = buffer.WrittenSpan.ToArray();
            var id = EventGenerator.ReadEventId(body);
            if (k >= warmupCount)
            {
                measured[id] = true;
            }
            await gate.WaitAsync(cancellationToken);
            inFlight.Add(Task.Run(async () =>
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Add("X-Faultline-Key", key);
                    using var response = await client.SendAsync(request, cancellationToken);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        var now = Shared.ElapsedTicks;
                        acked[id] = now;
                        ackLatency.Add(now - due);
                    }
                    else
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
                finally
                {
                    gate.Release();
                }
            }, cancellationToken));
            if (inFlight.Count > 4096)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
            }
        }
        var sendSeconds = (Shared.ElapsedTicks - start) / (double)freq;
        await Task.WhenAll(inFlight);
        // Whatever has not arrived five seconds after the last acknowledgement is counted as missing.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        await stopReceiving.CancelAsync();
        foreach (var socket in sockets)
        {
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }
        await Task.WhenAll(receivers);

        Console.WriteLine("| Subscriber | Events measured | Acked | Received | Missing | Dropped (server count) | p50 ms | p95 ms | p99 ms | max ms | ≤ 1 s at p99 |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        var ok = true;
        for (var s = 0; s < subscribers; s++)
        {
            var latencies = new List<long>();
            long received = 0, missing = 0, ackedCount = 0;
            foreach (var id in measured.Keys)
            {
                if (!acked.TryGetValue(id, out var ackAt))
                {
                    continue;
                }
                ackedCount++;
                if (arrivals[s].TryGetValue(id, out var arrivedAt))
                {
                    received++;
                    // An event published before the client has read its 202 counts as zero.
                    latencies.Add(Math.Max(0, arrivedAt - ackAt));
                }
                else
                {
                    missing++;
                }
            }
            var l = LatencySummary.FromTicks(latencies);
            var met = l.P99 <= 1000 && missing == 0;
            ok &= met;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s + 1} of {subscribers} | {measured.Count} | {ackedCount} | {received} | {missing} | {Interlocked.Read(ref dropped[s])} | {l.P50:0.0} | {l.P95:0.0} | {l.P99:0.0} | {l.Max:0.0} | {(met ? "yes" : "no")} |"));
        }
        var ack = LatencySummary.FromTicks([.. ackLatency]);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ingest: {total} events in {sendSeconds:0.0} s ({total / sendSeconds:0} events/s offered, target {rate:0}), one event per request, {failures} not acknowledged; 202 latency from the due time p50 {ack.P50:0.0} ms, p99 {ack.P99:0.0} ms."));
        return ok && failures == 0 ? 0 : 3;
    }

    private static async Task ReceiveAsync(ClientWebSocket socket, ConcurrentDictionary<string, long> arrivals, long[] dropped, int index, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var now = Shared.ElapsedTicks;
                using (var doc = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length)))
                {
                    var root = doc.RootElement;
                    switch (root.GetProperty("type").GetString())
                    {
                        case "event":
                            arrivals.TryAdd(root.GetProperty("eventId").GetString()!, now);
                            break;
                        case "dropped":
                            Interlocked.Add(ref dropped[index], root.GetProperty("count").GetInt64());
                            break;
                    }
                }
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>One clock for senders and receivers.</summary>
    private static readonly Stopwatch Shared = Stopwatch.StartNew();
}

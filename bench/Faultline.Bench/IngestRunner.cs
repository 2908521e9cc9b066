using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace Faultline.Bench;

/// <summary>The figures of one ingest (or seed) run, over the measured window only.</summary>
public sealed record IngestResult
{
    public required string Mode { get; init; }
    public required string Label { get; init; }
    public required string Target { get; init; }
    public required int Batch { get; init; }
    public required int Concurrency { get; init; }
    public required bool Gzip { get; init; }
    public required int Distinct { get; init; }
    public double? RateTarget { get; init; }
    public required double WindowSeconds { get; init; }
    public required double WarmupSeconds { get; init; }
    public required long Requests { get; init; }
    public required long Events { get; init; }
    public required double EventsPerSecond { get; init; }
    public required double RequestsPerSecond { get; init; }
    /// <summary>Acknowledgement latency; in open loop measured from the scheduled send time.</summary>
    public required LatencySummary LatencyMs { get; init; }
    /// <summary>Open loop only: from the actual send, without time spent queued behind slow answers.</summary>
    public LatencySummary? ServiceMs { get; init; }
    public required SortedDictionary<string, long> Statuses { get; init; }
    public required long Errors { get; init; }
    public required double AvgEventBytes { get; init; }
    public required double AvgBodyBytes { get; init; }
    public long? ServerRssBeforeKb { get; init; }
    public long? ServerRssAfterKb { get; init; }
    public long? ServerPeakRssKb { get; init; }
    /// <summary>False when VmHWM could not be reset, so the peak may come from before this run.</summary>
    public bool PeakRssIsThisRun { get; init; }
    public long? ServerPeakRssSampledKb { get; init; }
    public required string StartedAt { get; init; }
}

/// <summary>
/// Closed loop: <c>concurrency</c> workers each send a request as soon as the previous one is
/// answered. Open loop (<c>--rate</c>): request k is due at start + k/rate whatever the server
/// does; a worker that falls behind sends at once and its latency counts from the due time, so a
/// slow server cannot hide its queueing (no coordinated omission).
/// </summary>
public sealed class IngestRunner(BenchOptions options, EventGenerator generator)
{
    private long _nextRequest;
    private long _acceptedEvents;

    private sealed class WorkerStats
    {
        public readonly List<long> Latency = new(1 << 16);
        public readonly List<long> Service = new(1 << 16);
        public readonly Dictionary<string, long> Statuses = [];
        public long Requests;
        public long Events;
        public long Errors;
        public long BodyBytes;
        public long LastCompletion;
    }

    public async Task<IngestResult> RunAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpMessageInvoker(CreateHandler(options.Concurrency));
        var path = options.Target switch
        {
            IngestTarget.Native => "api/v1/events",
            IngestTarget.Sentry => $"api/{options.Project}/envelope/",
            _ => "api/v1/bench/discard",
        };
        var endpoint = new Uri(options.Url, path);

        await PreflightAsync(client, endpoint, cancellationToken);

        var memoryBefore = ProcessMemory.Read(options.ServerPid);
        var peakReset = ProcessMemory.TryResetPeak(options.ServerPid);
        await using var sampler = new RssSampler(options.ServerPid);
        var startedAt = DateTimeOffset.UtcNow;

        var freq = Stopwatch.Frequency;
        var clock = Stopwatch.StartNew();
        var warmupEnd = (long)(options.Warmup.TotalSeconds * freq);
        var end = warmupEnd + (long)(options.Duration.TotalSeconds * freq);
        double? ticksPerRequest = options.Rate is { } rate ? freq * options.Batch / rate : null;

        var workers = Enumerable.Range(0, options.Concurrency)
            .Select(i => Task.Run(() => WorkerAsync(client, endpoint, clock, warmupEnd, end, ticksPerRequest, options.Seed + i + 1, cancellationToken), cancellationToken))
            .ToArray();
        using var progress = new CancellationTokenSource();
        var progressLoop = options.Events is { } total ? ReportProgressAsync(total, clock, progress.Token) : Task.CompletedTask;
        var stats = await Task.WhenAll(workers);
        await progress.CancelAsync();
        await progressLoop;

        var memoryAfter = ProcessMemory.Read(options.ServerPid);
        var lastCompletion = stats.Max(s => s.LastCompletion);
        var windowEnd = options.Events is not null ? Math.Min(end, lastCompletion) : end;
        var window = Math.Max(1, windowEnd - warmupEnd) / (double)freq;
        var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (code, n) in stats.SelectMany(s => s.Statuses))
        {
            statuses[code] = statuses.GetValueOrDefault(code) + n;
        }
        var requests = stats.Sum(s => s.Requests);
        var events = stats.Sum(s => s.Events);

        return new IngestResult
        {
            Mode = options.Mode,
            Label = options.Label,
            Target = options.Target.ToString().ToLowerInvariant(),
            Batch = options.Batch,
            Concurrency = options.Concurrency,
            Gzip = options.Gzip,
            Distinct = options.Distinct,
            RateTarget = options.Rate,
            WindowSeconds = Math.Round(window, 3),
            WarmupSeconds = options.Warmup.TotalSeconds,
            Requests = requests,
            Events = events,
            EventsPerSecond = Math.Round(events / window, 1),
            RequestsPerSecond = Math.Round(requests / window, 1),
            LatencyMs = LatencySummary.FromTicks([.. stats.SelectMany(s => s.Latency)]),
            ServiceMs = options.Rate is null ? null : LatencySummary.FromTicks([.. stats.SelectMany(s => s.Service)]),
            Statuses = statuses,
            Errors = stats.Sum(s => s.Errors),
            AvgEventBytes = Math.Round(generator.AverageEventBytes, 1),
            AvgBodyBytes = requests == 0 ? 0 : Math.Round(stats.Sum(s => s.BodyBytes) / (double)requests, 1),
            ServerRssBeforeKb = memoryBefore?.RssKb,
            ServerRssAfterKb = memoryAfter?.RssKb,
            ServerPeakRssKb = memoryAfter?.PeakRssKb,
            PeakRssIsThisRun = peakReset,
            ServerPeakRssSampledKb = options.ServerPid is null ? null : sampler.PeakKb,
            StartedAt = startedAt.ToString("O"),
        };
    }

    public static HttpClient CreateClient(int connections, TimeSpan timeout)
    {
        var client = new HttpClient(CreateHandler(connections)) { Timeout = timeout };
        client.DefaultRequestHeaders.ExpectContinue = false;
        return client;
    }

    /// <summary>One connection per worker, kept for the whole run, no proxy, cookies or decompression.</summary>
    public static SocketsHttpHandler CreateHandler(int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    };

    /// <summary>Seeding a million events takes minutes: say how far it got every ten seconds.</summary>
    private async Task ReportProgressAsync(long total, Stopwatch clock, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var done = Interlocked.Read(ref _acceptedEvents);
                Console.Error.WriteLine($"  {done}/{total} events accepted after {clock.Elapsed.TotalSeconds:0} s ({done / clock.Elapsed.TotalSeconds:0}/s)");
            }
        }
        catch (OperationCanceledException)
        {
            // finished
        }
    }

    /// <summary>One request before the clock starts, so a wrong key or a missing endpoint fails loudly, not as a million 401s.</summary>
    private async Task PreflightAsync(HttpMessageInvoker client, Uri endpoint, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        generator.WriteBody(buffer, 1, new Random(options.Seed));
        using var request = CreateRequest(endpoint, buffer.WrittenSpan);
        using var response = await client.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException(
                $"preflight POST {endpoint} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 500)]}");
        }
    }

    private HttpRequestMessage CreateRequest(Uri endpoint, ReadOnlySpan<byte> json)
    {
        if (options.Target == IngestTarget.Sentry)
        {
            return CreateEnvelopeRequest(endpoint, json);
        }
        var bytes = options.Gzip ? EventGenerator.Gzip(json) : json.ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (options.Gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.TryAddWithoutValidation("X-Faultline-Key", options.Key);
        return request;
    }

    /// <summary>One event in an envelope with item lengths and a trailing newline, gzipped: what the .NET SDK sends.</summary>
    private HttpRequestMessage CreateEnvelopeRequest(Uri endpoint, ReadOnlySpan<byte> json)
    {
        var envelope = new ArrayBufferWriter<byte>(json.Length + 256);
        envelope.Write("{\"sdk\":{\"name\":\"faultline.bench\",\"version\":\"1\"}}\n"u8);
        envelope.Write(System.Text.Encoding.UTF8.GetBytes($"{{\"type\":\"event\",\"length\":{json.Length}}}\n"));
        envelope.Write(json);
        envelope.Write("\n"u8);
        var content = new ByteArrayContent(EventGenerator.Gzip(envelope.WrittenSpan));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-sentry-envelope");
        content.Headers.ContentEncoding.Add("gzip");
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.TryAddWithoutValidation("X-Sentry-Auth", $"Sentry sentry_version=7,sentry_client=faultline.bench/1,sentry_key={options.Key}");
        return request;
    }

    private async Task<WorkerStats> WorkerAsync(
        HttpMessageInvoker client, Uri endpoint, Stopwatch clock, long warmupEnd, long end,
        double? ticksPerRequest, int seed, CancellationToken cancellationToken)
    {
        var stats = new WorkerStats();
        var random = new Random(seed);
        var buffer = new ArrayBufferWriter<byte>(options.Batch * 2200);
        // One timeout source per worker, re-armed per request: HttpClient.Timeout would allocate a
        // linked source per request, client CPU the server then lacks on a shared machine.
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            var seq = Interlocked.Increment(ref _nextRequest) - 1;
            var batch = options.Batch;
            if (options.Events is { } limit)
            {
                var remaining = limit - (seq * options.Batch);
                if (remaining <= 0)
                {
                    break;
                }
                batch = (int)Math.Min(batch, remaining);
            }

            long due;
            long sent;
            if (ticksPerRequest is { } step)
            {
                due = (long)(seq * step);
                if (due >= end)
                {
                    break;
                }
                var now = clock.ElapsedTicks;
                if (due > now)
                {
                    await Task.Delay(TimeSpan.FromSeconds((due - now) / (double)Stopwatch.Frequency), cancellationToken);
                    // Timer lateness is the client's, not the server's: count from the actual send.
                    due = clock.ElapsedTicks;
                }
                sent = clock.ElapsedTicks;
            }
            else
            {
                due = sent = clock.ElapsedTicks;
                if (sent >= end)
                {
                    break;
                }
            }

            generator.WriteBody(buffer, batch, random);
            string status;
            var ok = false;
            long bodyBytes = 0;
            try
            {
                using var request = CreateRequest(endpoint, buffer.WrittenSpan);
                bodyBytes = request.Content!.Headers.ContentLength ?? 0;
                timeout.CancelAfter(options.RequestTimeout);
                using var response = await client.SendAsync(request, timeout.Token);
                // SendAsync returns after the headers; the body (a few ids) is read before the clock stops.
                await response.Content.LoadIntoBufferAsync(timeout.Token);
                status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                ok = response.IsSuccessStatusCode;
            }
            catch (HttpRequestException e)
            {
                status = e.HttpRequestError.ToString();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                status = "Timeout";
            }
            if (!timeout.TryReset())
            {
                timeout.Dispose();
                timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            }

            var done = clock.ElapsedTicks;
            stats.LastCompletion = Math.Max(stats.LastCompletion, done);
            if (ok && options.Events is not null)
            {
                Interlocked.Add(ref _acceptedEvents, batch);
            }
            if (due < warmupEnd || done > end)
            {
                continue;
            }
            stats.Requests++;
            stats.BodyBytes += bodyBytes;
            stats.Statuses[status] = stats.Statuses.GetValueOrDefault(status) + 1;
            if (ok)
            {
                stats.Events += batch;
                stats.Latency.Add(done - due);
                if (ticksPerRequest is not null)
                {
                    stats.Service.Add(done - sent);
                }
            }
            else
            {
                stats.Errors++;
            }
        }
        timeout.Dispose();
        return stats;
    }
}

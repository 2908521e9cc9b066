using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Faultline.Bench;

/// <summary>Timings of one query shape over all repetitions.</summary>
public sealed record QueryTiming
{
    public required string Name { get; init; }
    public required string Path { get; init; }
    public required LatencySummary LatencyMs { get; init; }
    public required SortedDictionary<string, long> Statuses { get; init; }
    /// <summary>Items in the last answer (array length, or the first array property), -1 if not JSON.</summary>
    public required int Items { get; init; }
    public required long ResponseBytes { get; init; }
}

public sealed record QueryResult
{
    public required string Mode { get; init; }
    public required string Label { get; init; }
    public required long Project { get; init; }
    public required int Repetitions { get; init; }
    public required IReadOnlyList<QueryTiming> Queries { get; init; }
    public required string StartedAt { get; init; }
}

/// <summary>
/// Times the read paths a person hits most: the issue list by recency and by level, free-text
/// event search and field-filtered event search. Requests run one at a time, so the figures are
/// the latency of one query on an otherwise idle server.
/// </summary>
public sealed class QueryRunner(BenchOptions options)
{
    private const int WarmupRepetitions = 3;

    public static IReadOnlyList<(string Name, string Path)> Queries(long project)
    {
        var p = project.ToString(CultureInfo.InvariantCulture);
        return
        [
            ("issues sort=last_seen", $"api/v1/projects/{p}/issues?sort=last_seen&limit=50"),
            ("issues level:error", $"api/v1/projects/{p}/issues?query={Uri.EscapeDataString("level:error")}&limit=50"),
            ("events \"timeout\"", $"api/v1/projects/{p}/events?query={Uri.EscapeDataString("\"timeout\"")}&limit=50"),
            ("events env+level", $"api/v1/projects/{p}/events?query={Uri.EscapeDataString("environment:production level:error")}&limit=50"),
        ];
    }

    public async Task<QueryResult> RunAsync(CancellationToken cancellationToken)
    {
        using var client = IngestRunner.CreateClient(1, options.RequestTimeout);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        var startedAt = DateTimeOffset.UtcNow;
        var timings = new List<QueryTiming>();
        foreach (var (name, path) in Queries(options.Project))
        {
            var uri = new Uri(options.Url, path);
            var samples = new List<long>(options.Repetitions);
            var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
            byte[] last = [];
            for (var i = 0; i < WarmupRepetitions + options.Repetitions; i++)
            {
                var started = Stopwatch.GetTimestamp();
                string status;
                try
                {
                    using var response = await client.GetAsync(uri, cancellationToken);
                    last = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
                catch (HttpRequestException e)
                {
                    status = e.HttpRequestError.ToString();
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    status = "Timeout";
                }
                var elapsed = Stopwatch.GetTimestamp() - started;
                if (i < WarmupRepetitions)
                {
                    if (i == 0 && status != "200")
                    {
                        Console.Error.WriteLine($"warning: GET {uri} answered {status}: {Snippet(last)}");
                    }
                    continue;
                }
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                samples.Add(elapsed);
            }
            timings.Add(new QueryTiming
            {
                Name = name,
                Path = "/" + path,
                LatencyMs = LatencySummary.FromTicks(samples),
                Statuses = statuses,
                Items = CountItems(last),
                ResponseBytes = last.Length,
            });
        }
        return new QueryResult
        {
            Mode = options.Mode,
            Label = options.Label,
            Project = options.Project,
            Repetitions = options.Repetitions,
            Queries = timings,
            StartedAt = startedAt.ToString("O"),
        };
    }

    private static string Snippet(byte[] body) =>
        System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)));

    private static int CountItems(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                return root.GetArrayLength();
            }
            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        return property.Value.GetArrayLength();
                    }
                }
            }
            return 0;
        }
        catch (JsonException)
        {
            return -1;
        }
    }
}

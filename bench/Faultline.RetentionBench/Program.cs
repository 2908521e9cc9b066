using System.Diagnostics;
using System.Globalization;
using Faultline.Events;
using Faultline.Pipeline;
using Faultline.Retention;
using Faultline.Storage;
using Faultline.Storage.Postgres;
using Faultline.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

// The retention sweep's rate, and store ingest throughput while a sweep runs versus without, for
// the sweep unthrottled (work share 1) and throttled (--work-share). In-process against one store:
// seeds three sets of old events, sweeps set A alone, then for each share measures ingest alone and
// sweeps the next set while the same ingest runs, then measures ingest alone again (the baseline is
// the mean of before and after). Prints one Markdown row per share. Usage:
//   faultline-retention-bench --store sqlite|postgres --events N [--seconds S] [--work-share X] [--chunk N] [--connection CS] [--dir DIR]
var store = Arg("--store", "sqlite");
var total = int.Parse(Arg("--events", "150000"), CultureInfo.InvariantCulture);
var seconds = double.Parse(Arg("--seconds", "10"), CultureInfo.InvariantCulture);
var workShare = double.Parse(Arg("--work-share", "0.25"), CultureInfo.InvariantCulture);
var chunk = int.Parse(Arg("--chunk", "1000"), CultureInfo.InvariantCulture);
var dir = Arg("--dir", Path.Combine(Path.GetTempPath(), "faultline-retention-bench-" + Guid.NewGuid().ToString("N")));
Directory.CreateDirectory(dir);

IFaultlineStore db = store == "postgres"
    ? new PostgresStore(NpgsqlDataSource.Create(Arg("--connection", "") is { Length: > 0 } cs ? cs : throw new ArgumentException("--connection is required for postgres")))
    : new SqliteStore(Path.Combine(dir, "faultline.db"));
await db.MigrateAsync(default);
var now = DateTimeOffset.UtcNow;
// Daily partitions for the seeded days (PostgreSQL), as they would have been created at the time.
await db.PrepareAheadAsync(now.AddDays(-48), default);
await db.PrepareAheadAsync(now.AddDays(-40), default);
await db.PrepareAheadAsync(now, default);
var (org, _) = await db.GetOrCreateOrganizationAsync("bench-" + Guid.NewGuid().ToString("N")[..8], "Bench", now, default);
var project = await db.CreateProjectAsync(org.Id, "Bench", "bench", now, default);

// Set A (days 48..45 back) is swept alone; B (44..41) during ingest unthrottled; C (40..37) during ingest throttled.
var perSet = total / 3;
var seed = Stopwatch.StartNew();
await SeedAsync(48, perSet);
await SeedAsync(44, perSet);
await SeedAsync(40, perSet);
Console.Error.WriteLine($"seeded {perSet * 3} events in {seed.Elapsed.TotalSeconds:F1} s");

var options = new RetentionOptions
{
    HotDays = 44, ArchiveDays = 365, KeepUnreviewed = false, SweepWorkShare = 1, SweepChunkEvents = chunk,
    Archive = { LocalPath = Path.Combine(dir, "archive") },
};
var sweep = new RetentionSweep(db, new LocalFolderArchive(options.Archive.LocalPath), new RetentionPolicies(db, Options.Create(options)), Options.Create(options),
    TimeProvider.System, new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
    NullLogger<RetentionSweep>.Instance);
var alone = Stopwatch.StartNew();
var reportA = await sweep.RunAsync(default);
alone.Stop();
var aloneRate = reportA.EventsArchived / alone.Elapsed.TotalSeconds;
Console.Error.WriteLine($"set A: {reportA.EventsArchived} events swept alone in {alone.Elapsed.TotalSeconds:F1} s");

long archivedTotal = reportA.EventsArchived;
var rows = new List<string>();
foreach (var (share, hotDays) in new[] { (1.0, 40), (workShare, 36) })
{
    // Ingest alone just before and just after the sweep, averaged: the machine's load drifts (other work on it).
    var before = await IngestAsync(() => Task.Delay(TimeSpan.FromSeconds(seconds)));
    options.HotDays = hotDays;
    options.SweepWorkShare = share;
    SweepReport? report = null;
    var during = Stopwatch.StartNew();
    var concurrent = await IngestAsync(async () => report = await sweep.RunAsync(default));
    during.Stop();
    var after = await IngestAsync(() => Task.Delay(TimeSpan.FromSeconds(seconds)));
    var baseline = (before + after) / 2;
    archivedTotal += report!.EventsArchived;
    Console.Error.WriteLine($"share {share}: {report.EventsArchived} events swept during ingest in {during.Elapsed.TotalSeconds:F1} s (paused {report.Paused.TotalSeconds:F1} s); ingest alone {before:F0} before, {after:F0} after, {concurrent:F0} during");
    rows.Add(string.Create(CultureInfo.InvariantCulture,
        $"| {store} | {report.EventsArchived} | {share:0.##} | {aloneRate:F0} | {report.EventsArchived / during.Elapsed.TotalSeconds:F0} | {baseline:F0} | {concurrent:F0} | {concurrent / baseline * 100:F0} % |"));
}

var archiveBytes = Directory.EnumerateFiles(options.Archive.LocalPath, "*.ndjson.gz", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
foreach (var row in rows)
{
    Console.WriteLine(row + string.Create(CultureInfo.InvariantCulture, $" {archiveBytes / (double)archivedTotal:F0} |"));
}
return 0;

async Task SeedAsync(int daysBack, int count)
{
    var batch = new List<PreparedEvent>(1000);
    for (var i = 0; i < count; i++)
    {
        var received = now.Date.AddDays(-daysBack + i % 4).AddSeconds(i % 80000);
        batch.Add(Event(new DateTimeOffset(received, TimeSpan.Zero), i));
        if (batch.Count == 1000)
        {
            await db.WriteBatchAsync(batch, default);
            batch.Clear();
        }
    }
    if (batch.Count > 0)
    {
        await db.WriteBatchAsync(batch, default);
    }
}

// Writer loops like the server's (SQLite 1, PostgreSQL 2), 500 events per batch, until the work completes.
async Task<double> IngestAsync(Func<Task> work)
{
    long written = 0;
    using var stop = new CancellationTokenSource();
    var loops = Enumerable.Range(0, db.MaxConcurrentBatches).Select(_ => Task.Run(async () =>
    {
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var batch = Enumerable.Range(0, 500).Select(i => Event(DateTimeOffset.UtcNow, n++ * 500 + i)).ToList();
            await db.WriteBatchAsync(batch, default);
            Interlocked.Add(ref written, batch.Count);
        }
    })).ToList();
    var clock = Stopwatch.StartNew();
    await work();
    stop.Cancel();
    await Task.WhenAll(loops);
    return Interlocked.Read(ref written) / clock.Elapsed.TotalSeconds;
}

PreparedEvent Event(DateTimeOffset received, int i)
{
    var e = new FaultlineEvent
    {
        EventId = Guid.NewGuid(),
        Timestamp = received,
        Level = EventLevel.Error,
        Environment = "production",
        Release = "1.4.2",
        Message = $"Order {i} failed: timeout after {i % 997} ms talking to payments-{i % 50}",
        Tags = new Dictionary<string, string> { ["region"] = "eu-" + (i % 3), ["customer"] = "c" + (i % 1000) },
    };
    return IngestPipeline.Prepare(project.Id, e, received);
}

string Arg(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

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

// The retention sweep's rate, and store ingest throughput while a sweep runs versus without.
// In-process against one store: seeds old events, measures ingest alone, sweeps one set alone,
// then sweeps a second set while ingest runs. Usage:
//   faultline-retention-bench --store sqlite|postgres --events N [--seconds S] [--connection CS] [--dir DIR]
var store = Arg("--store", "sqlite");
var total = int.Parse(Arg("--events", "200000"), CultureInfo.InvariantCulture);
var seconds = double.Parse(Arg("--seconds", "10"), CultureInfo.InvariantCulture);
var dir = Arg("--dir", Path.Combine(Path.GetTempPath(), "faultline-retention-bench-" + Guid.NewGuid().ToString("N")));
Directory.CreateDirectory(dir);

IFaultlineStore db = store == "postgres"
    ? new PostgresStore(NpgsqlDataSource.Create(Arg("--connection", "") is { Length: > 0 } cs ? cs : throw new ArgumentException("--connection is required for postgres")))
    : new SqliteStore(Path.Combine(dir, "faultline.db"));
await db.MigrateAsync(default);
var now = DateTimeOffset.UtcNow;
// Daily partitions for the seeded days (PostgreSQL), as they would have been created at the time.
await db.PrepareAheadAsync(now.AddDays(-45), default);
await db.PrepareAheadAsync(now.AddDays(-38), default);
await db.PrepareAheadAsync(now, default);
var (org, _) = await db.GetOrCreateOrganizationAsync("bench-" + Guid.NewGuid().ToString("N")[..8], "Bench", now, default);
var project = await db.CreateProjectAsync(org.Id, "Bench", "bench", now, default);

// Set A (days 44..41 back) is swept alone, set B (days 40..37 back) while ingest runs.
var perSet = total / 2;
var seed = Stopwatch.StartNew();
await SeedAsync(44, perSet);
await SeedAsync(40, perSet);
Console.Error.WriteLine($"seeded {perSet * 2} events in {seed.Elapsed.TotalSeconds:F1} s");

var baseline = await IngestAsync(() => Task.Delay(TimeSpan.FromSeconds(seconds)));

var options = new RetentionOptions { HotDays = 40, ArchiveDays = 365, KeepUnreviewed = false, Archive = { LocalPath = Path.Combine(dir, "archive") } };
var sweep = new RetentionSweep(db, new LocalFolderArchive(options.Archive.LocalPath), new RetentionPolicies(db, Options.Create(options)), Options.Create(options),
    TimeProvider.System, new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
    NullLogger<RetentionSweep>.Instance);
var alone = Stopwatch.StartNew();
var reportA = await sweep.RunAsync(default);
alone.Stop();

options.HotDays = 30;
SweepReport? reportB = null;
var during = Stopwatch.StartNew();
var concurrent = await IngestAsync(async () => reportB = await sweep.RunAsync(default));
during.Stop();

var archiveBytes = Directory.EnumerateFiles(options.Archive.LocalPath, "*.ndjson.gz", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
Console.WriteLine($"| {store} | {reportA.EventsArchived} | {reportA.EventsArchived / alone.Elapsed.TotalSeconds:F0} | {reportB!.EventsArchived / during.Elapsed.TotalSeconds:F0} | {baseline:F0} | {concurrent:F0} | {concurrent / baseline:P0} | {archiveBytes / (double)(reportA.EventsArchived + reportB.EventsArchived):F0} |");
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

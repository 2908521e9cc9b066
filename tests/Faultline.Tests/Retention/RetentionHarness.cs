using System.IO.Compression;
using System.Text.Json;
using Faultline.Events;
using Faultline.Retention;
using Faultline.Search;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Faultline.Tests.Retention;

/// <summary>
/// A store with one project whose events span 40 days, a fake clock, and a sweep over an archive
/// target. Issue A (error) ages out; issue B (fatal, unreviewed) is kept by "keep unreviewed";
/// issue C (warning) is kept by its keep_until_reviewed flag.
/// </summary>
public sealed class RetentionHarness : IAsyncDisposable
{
    public const int Days = 40;
    public const int HotDays = 30;
    public const int AEventsPerDay = 3;

    private RetentionHarness(TestDatabase database, IFaultlineStore store, IArchiveTarget archive, FakeTimeProvider time, RetentionOptions options)
    {
        Database = database;
        Store = store;
        Archive = archive;
        Time = time;
        Options = options;
    }

    public TestDatabase Database { get; }
    public IFaultlineStore Store { get; }
    public IArchiveTarget Archive { get; }
    public FakeTimeProvider Time { get; }
    public RetentionOptions Options { get; }
    public long ProjectId { get; private set; }
    public long UserId { get; private set; }
    public long IssueA { get; private set; }
    public long IssueB { get; private set; }
    public long IssueC { get; private set; }

    /// <summary>Event ids of issue A and B by day offset (0 = today).</summary>
    public Dictionary<int, List<Guid>> AIds { get; } = [];
    public Dictionary<int, List<Guid>> BIds { get; } = [];
    public DateOnly Today => DateOnly.FromDateTime(Time.GetUtcNow().UtcDateTime);

    public static async Task<RetentionHarness> CreateAsync(StoreKind kind, Func<IArchiveTarget>? archive = null)
    {
        var database = await TestDatabase.CreateAsync(kind);
        var store = await database.OpenStoreAsync();
        var now = new DateTimeOffset(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero);
        var time = new FakeTimeProvider(now);
        var options = new RetentionOptions { HotDays = HotDays, ArchiveDays = 90, KeepUnreviewed = true, KeepMinimumLevel = "fatal", RestoredDays = 7 };
        var target = archive?.Invoke() ?? new LocalFolderArchive(Path.Combine(Path.GetTempPath(), "faultline-tests", "archive-" + Guid.NewGuid().ToString("N")));
        var harness = new RetentionHarness(database, store, target, time, options);
        await harness.SeedAsync(now);
        return harness;
    }

    private async Task SeedAsync(DateTimeOffset now)
    {
        // Old daily partitions exist for days 36..28 back (PostgreSQL): the sweep drops those and deletes row by row elsewhere.
        await Store.PrepareAheadAsync(now.AddDays(-35), default);
        var (org, _) = await Store.GetOrCreateOrganizationAsync("acme", "Acme", now, default);
        ProjectId = (await Store.CreateProjectAsync(org.Id, "Web", "web", now, default)).Id;
        UserId = (await Store.CreateUserAsync("owner@acme.test", "hash", false, now, default)).Id;
        await Store.AddMemberAsync(org.Id, UserId, "owner", default);
        for (var day = Days - 1; day >= 0; day--)
        {
            var received = now.Date.AddDays(-day).AddHours(6);
            var at = new DateTimeOffset(received, TimeSpan.Zero);
            var batch = new List<PreparedEvent>();
            AIds[day] = [];
            for (var i = 0; i < AEventsPerDay; i++)
            {
                var a = EventBuilder.Exception("TimeoutException", $"after {day * 10 + i} ms", at: at.AddMinutes(i));
                AIds[day].Add(a.EventId);
                batch.Add(EventBuilder.Prepare(ProjectId, a, at.AddMinutes(i)));
            }
            var b = EventBuilder.Exception("OutOfMemoryException", "heap", function: "Render", at: at, level: EventLevel.Fatal);
            BIds[day] = [b.EventId];
            batch.Add(EventBuilder.Prepare(ProjectId, b, at));
            batch.Add(EventBuilder.Prepare(ProjectId, EventBuilder.Message("disk almost full", at: at, level: EventLevel.Warning), at));
            var result = await Store.WriteBatchAsync(batch, default);
            foreach (var stored in result.Stored)
            {
                switch (stored.Event.Event.Level)
                {
                    case EventLevel.Fatal: IssueB = stored.IssueId; break;
                    case EventLevel.Warning: IssueC = stored.IssueId; break;
                    default: IssueA = stored.IssueId; break;
                }
            }
        }
        Assert.True(await Store.SetKeepUntilReviewedAsync(IssueC, true, default));
    }

    public RetentionSweep Sweep()
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        return new RetentionSweep(Store, Archive, new RetentionPolicies(Store, options), options, Time, meters, NullLogger<RetentionSweep>.Instance);
    }

    public ArchiveRestore Restore() => new(Store, Archive, Time);

    /// <summary>The issue's events in hot storage (searchable through the normal query path).</summary>
    public async Task<List<EventRecord>> HotEventsAsync(long? issueId = null, string query = "")
    {
        var events = new List<EventRecord>();
        string? cursor = null;
        do
        {
            var page = await Store.ListEventsAsync(ProjectId, new EventListRequest(QueryParser.Parse(query, Time.GetUtcNow()), issueId, 100, cursor), default);
            events.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return events;
    }

    /// <summary>Every event id in every archive object of the project, read straight from the target (gzip NDJSON), one entry per line.</summary>
    public async Task<List<Guid>> ArchivedIdsAsync()
    {
        var ids = new List<Guid>();
        foreach (var batch in await Store.ListArchiveBatchesAsync(ProjectId, default))
        {
            if (batch.State == ArchiveBatchState.Expired)
            {
                continue;
            }
            await using var stream = await Archive.OpenReadAsync(batch.ObjectKey, default);
            Assert.NotNull(stream);
            await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip);
            while (await reader.ReadLineAsync() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                Assert.Equal(ProjectId, json.RootElement.GetProperty("project_id").GetInt64());
                ids.Add(Guid.ParseExact(json.RootElement.GetProperty("event_id").GetString()!, "N"));
            }
        }
        return ids;
    }

    public IEnumerable<Guid> AIdsOlderThan(int hotDays) => AIds.Where(kv => kv.Key > hotDays).SelectMany(kv => kv.Value);

    public IEnumerable<Guid> BIdsOlderThan(int hotDays) => BIds.Where(kv => kv.Key > hotDays).SelectMany(kv => kv.Value);

    public async ValueTask DisposeAsync()
    {
        if (Archive is LocalFolderArchive local && Directory.Exists(local.Root))
        {
            Directory.Delete(local.Root, recursive: true);
        }
        (Archive as IDisposable)?.Dispose();
        await Database.DisposeAsync();
    }
}

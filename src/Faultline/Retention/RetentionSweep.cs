using System.Diagnostics.Metrics;
using Faultline.Operations;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Retention;

/// <summary>The points between the sweep's steps; tests stop the sweep at each one to prove a rerun finishes the job.</summary>
public enum SweepStep
{
    Planned,
    ObjectWritten,
    WriteRecorded,
    Verified,
    DeleteChunkCommitted,
    HotRowsDeleted,
    ObjectExpired,
}

/// <summary>What a run did; <see cref="Paused"/> is the time the throttle gave back to ingest.</summary>
public sealed record SweepReport(bool Ran, int Batches, long EventsArchived, int ObjectsExpired, int RestoredRemoved, int VerifyFailures, TimeSpan Paused = default)
{
    public static readonly SweepReport NotRun = new(false, 0, 0, 0, 0, 0);
}

/// <summary>The sweep lost its lease while pausing (it stalled past it): it stops, and the node now holding the lease carries on from the recorded state.</summary>
public sealed class SweepLeaseLostException() : Exception("The retention sweep lost its lease; the node holding it carries on from the recorded state.");

/// <summary>
/// One retention run, under a lease so only one node sweeps at a time. For each UTC day past a
/// project's hot retention: plan a batch, write the day's sweepable events as gzip NDJSON plus a
/// manifest, read both back and check count, size and SHA-256, then delete exactly the rows in the
/// object (one transaction with the state change). Every step is recorded in archive_batches, so a
/// run stopped anywhere is finished by the next: a planned or written batch is written again under
/// the same key, a verified one is read back again before its rows go. Then objects past archive
/// retention are deleted, and restored events past their time are removed again. Work is done in
/// chunks of <see cref="RetentionOptions.SweepChunkEvents"/> events with a pause after each
/// (<see cref="SweepThrottle"/>), so ingest keeps most of the machine; the lease is renewed in those pauses.
/// </summary>
public sealed partial class RetentionSweep(
    IRetentionStore store,
    IArchiveTarget archive,
    RetentionPolicies policies,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    IMeterFactory meterFactory,
    ILogger<RetentionSweep> logger)
{
    public const string LeaseName = "retention-sweep";

    // Renewed before each day and every few minutes between chunks; a killed node's lease frees itself.
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan LeaseRenewal = TimeSpan.FromMinutes(5);

    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly Meter _meter = meterFactory.Create(FaultlineMetrics.MeterName);
    private Counter<long>? _archived;
    private Counter<long>? _verifyFailures;

    private SweepThrottle _throttle = null!;
    private DateTimeOffset _leaseRenewed;

    /// <summary>Called after each step (tests throw here to simulate a crash).</summary>
    internal Func<SweepStep, ArchiveBatch, Task>? AfterStep { get; set; }

    /// <summary>Called with each throttle pause once its timer is set (tests advance a fake clock by it).</summary>
    internal Action<TimeSpan>? Pausing { get; set; }

    private Counter<long> Archived => _archived ??= _meter.CreateCounter<long>("faultline.retention.events.archived", "{event}", "Events archived and removed from hot storage.");

    private Counter<long> VerifyFailures => _verifyFailures ??= _meter.CreateCounter<long>("faultline.retention.verify.failures", "{object}", "Archive objects that did not read back as written.");

    /// <summary>Runs the sweep unless another node holds the lease (then returns <see cref="SweepReport.NotRun"/>).</summary>
    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await store.TryAcquireLeaseAsync(LeaseName, _holder, now, now + LeaseDuration, cancellationToken))
        {
            return SweepReport.NotRun;
        }
        _leaseRenewed = now;
        _throttle = new SweepThrottle(options.Value.SweepWorkShare, time) { Pausing = Pausing };
        try
        {
            return await SweepAsync(cancellationToken) with { Paused = _throttle.Paused };
        }
        finally
        {
            await store.ReleaseLeaseAsync(LeaseName, _holder, CancellationToken.None);
        }
    }

    private async Task<SweepReport> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var restoredRemoved = await store.DeleteRestoredEventsAsync(now.AddDays(-options.Value.RestoredDays), cancellationToken);

        var projectPolicies = new Dictionary<long, RetentionPolicy>();
        foreach (var project in await store.ListAllProjectsAsync(cancellationToken))
        {
            projectPolicies[project.Id] = (await policies.GetAsync(project, cancellationToken)).Policy;
        }
        RetentionPolicy PolicyOf(long projectId) => projectPolicies.GetValueOrDefault(projectId) ?? policies.Server;

        // Work per day, oldest first: unfinished batches of an earlier run, then days with sweepable rows.
        var work = new SortedDictionary<DateOnly, Dictionary<long, ArchiveBatch?>>();
        var batches = await store.ListArchiveBatchesAsync(null, cancellationToken);
        foreach (var batch in batches.Where(b => b.State < ArchiveBatchState.Deleted))
        {
            DayWork(work, batch.Day)[batch.ProjectId] = batch;
        }
        foreach (var (projectId, policy) in projectPolicies)
        {
            var cutoff = HotCutoff(now, policy);
            var from = DateTimeOffset.UnixEpoch;
            while (await store.OldestSweepableAsync(projectId, from, cutoff, KeepRule.Of(policy), cancellationToken) is { } oldest)
            {
                var day = DateOnly.FromDateTime(oldest.UtcDateTime);
                DayWork(work, day).TryAdd(projectId, null);
                from = SqlStoreBase.DayBounds(day).To;
            }
        }

        int batchCount = 0, verifyFailures = 0;
        long archived = 0;
        foreach (var (day, projects) in work)
        {
            if (!await RenewLeaseAsync(cancellationToken))
            {
                break; // lost the lease (this node stalled past it): another node carries on from the recorded state
            }
            var verified = new List<VerifiedBatch>();
            foreach (var (projectId, existing) in projects)
            {
                var keep = KeepRule.Of(PolicyOf(projectId));
                var batch = existing ?? await PlanAsync(projectId, day, cancellationToken);
                if (batch.State == ArchiveBatchState.Planned)
                {
                    batch = await WriteAsync(batch, keep, cancellationToken);
                }
                var checkedBatch = await VerifyAsync(batch, cancellationToken);
                if (checkedBatch is null)
                {
                    verifyFailures++;
                    continue;
                }
                verified.Add(checkedBatch);
            }
            if (verified.Count == 0)
            {
                continue;
            }
            await store.DeleteArchivedEventsAsync(day, verified, time.GetUtcNow(), new SweepChunking(options.Value.SweepChunkEvents, async (batch, ct) =>
            {
                await StepAsync(SweepStep.DeleteChunkCommitted, batch);
                await ChunkDoneAsync(ct);
            }), cancellationToken);
            foreach (var batch in verified)
            {
                batchCount++;
                archived += batch.Events.Count;
                Archived.Add(batch.Events.Count);
                await StepAsync(SweepStep.HotRowsDeleted, batch.Batch);
            }
            LogDayArchived(logger, day, verified.Count, verified.Sum(b => b.Events.Count), archive.Describe);
            await ChunkDoneAsync(cancellationToken);
        }

        var expired = await ExpireAsync(today, PolicyOf, cancellationToken);
        return new SweepReport(true, batchCount, archived, expired, restoredRemoved, verifyFailures);
    }

    /// <summary>Events received before this (UTC midnight, <c>HotDays</c> days back) leave hot storage unless kept.</summary>
    public static DateTimeOffset HotCutoff(DateTimeOffset now, RetentionPolicy policy) =>
        SqlStoreBase.DayBounds(DateOnly.FromDateTime(now.UtcDateTime).AddDays(-policy.HotDays)).From;

    /// <summary>Ends a chunk of work: the throttle's pause, then a lease renewal when one is due.</summary>
    private async ValueTask ChunkDoneAsync(CancellationToken cancellationToken)
    {
        await _throttle.ChunkDoneAsync(cancellationToken);
        if (time.GetUtcNow() - _leaseRenewed >= LeaseRenewal && !await RenewLeaseAsync(cancellationToken))
        {
            throw new SweepLeaseLostException();
        }
    }

    private async Task<bool> RenewLeaseAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await store.TryAcquireLeaseAsync(LeaseName, _holder, now, now + LeaseDuration, cancellationToken))
        {
            return false;
        }
        _leaseRenewed = now;
        return true;
    }

    private static Dictionary<long, ArchiveBatch?> DayWork(SortedDictionary<DateOnly, Dictionary<long, ArchiveBatch?>> work, DateOnly day)
    {
        if (!work.TryGetValue(day, out var projects))
        {
            work[day] = projects = [];
        }
        return projects;
    }

    private async Task<ArchiveBatch> PlanAsync(long projectId, DateOnly day, CancellationToken cancellationToken)
    {
        var batch = await store.PlanArchiveBatchAsync(projectId, day, sequence => ArchiveFormat.Keys(projectId, day, sequence), time.GetUtcNow(), cancellationToken);
        await StepAsync(SweepStep.Planned, batch);
        return batch;
    }

    /// <summary>Writes the object and its manifest (replacing any left by a stopped run), then records the sizes.</summary>
    private async Task<ArchiveBatch> WriteAsync(ArchiveBatch batch, KeepRule keep, CancellationToken cancellationToken)
    {
        ArchiveObjectInfo info;
        await using (var file = TemporaryFile())
        {
            var chunk = options.Value.SweepChunkEvents;
            var read = 0;
            var (events, uncompressed) = await ArchiveFormat.WriteAsync(file,
                sink => store.ReadSweepableEventsAsync(batch.ProjectId, batch.Day, keep, async e =>
                {
                    await sink(e);
                    if (++read % chunk == 0)
                    {
                        await ChunkDoneAsync(cancellationToken);
                    }
                }, cancellationToken), cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            var sha = await ArchiveFormat.Sha256HexAsync(file, cancellationToken);
            info = new ArchiveObjectInfo(events, uncompressed, file.Length, sha);
            file.Position = 0;
            await archive.PutAsync(batch.ObjectKey, file, cancellationToken);
        }
        var manifest = new ArchiveManifest(ArchiveFormat.SchemaVersion, batch.ProjectId, batch.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            batch.Sequence, time.GetUtcNow(),
            [new ArchiveManifestObject(batch.ObjectKey, ArchiveFormat.ObjectFormat, info.Events, info.UncompressedBytes, info.Bytes, info.Sha256)]);
        using (var manifestStream = new MemoryStream(ArchiveFormat.SerializeManifest(manifest)))
        {
            await archive.PutAsync(batch.ManifestKey, manifestStream, cancellationToken);
        }
        await StepAsync(SweepStep.ObjectWritten, batch);
        await store.MarkArchiveBatchAsync(batch.Id, ArchiveBatchState.Written, info, time.GetUtcNow(), cancellationToken);
        batch = batch with { State = ArchiveBatchState.Written, Info = info };
        await StepAsync(SweepStep.WriteRecorded, batch);
        return batch;
    }

    /// <summary>
    /// Reads the object and manifest back and checks them against what was recorded. A mismatch sends
    /// the batch back to Planned (written again next run) and keeps the hot rows.
    /// </summary>
    private async Task<VerifiedBatch?> VerifyAsync(ArchiveBatch batch, CancellationToken cancellationToken)
    {
        var problem = await CheckAsync(batch, cancellationToken);
        if (problem.Error is not null)
        {
            VerifyFailures.Add(1);
            LogVerifyFailed(logger, batch.ObjectKey, problem.Error);
            await store.MarkArchiveBatchAsync(batch.Id, ArchiveBatchState.Planned, null, time.GetUtcNow(), cancellationToken);
            return null;
        }
        if (batch.State == ArchiveBatchState.Written)
        {
            await store.MarkArchiveBatchAsync(batch.Id, ArchiveBatchState.Verified, null, time.GetUtcNow(), cancellationToken);
            batch = batch with { State = ArchiveBatchState.Verified };
        }
        await StepAsync(SweepStep.Verified, batch);
        return new VerifiedBatch(batch, problem.Keys);
    }

    private async Task<(string? Error, List<ArchivedEventKey> Keys)> CheckAsync(ArchiveBatch batch, CancellationToken cancellationToken)
    {
        var keys = new List<ArchivedEventKey>();
        if (batch.Info is not { } info)
        {
            return ("no sizes were recorded for the batch", keys);
        }
        var manifest = await ReadManifestAsync(archive, batch, cancellationToken);
        if (manifest?.Objects is not [var described] || described.Sha256 != info.Sha256 || described.Events != info.Events)
        {
            return ("the manifest is missing or does not describe the object", keys);
        }
        await using var file = TemporaryFile();
        await using (var source = await archive.OpenReadAsync(batch.ObjectKey, cancellationToken))
        {
            if (source is null)
            {
                return ("the object is missing", keys);
            }
            await source.CopyToAsync(file, cancellationToken);
        }
        if (file.Length != info.Bytes)
        {
            return ($"the object has {file.Length} bytes, {info.Bytes} were written", keys);
        }
        file.Position = 0;
        if (await ArchiveFormat.Sha256HexAsync(file, cancellationToken) != info.Sha256)
        {
            return ("the object's SHA-256 differs from the one written", keys);
        }
        file.Position = 0;
        try
        {
            await foreach (var e in ArchiveFormat.ReadAsync(file, cancellationToken))
            {
                if (e.ProjectId != batch.ProjectId)
                {
                    return ($"the object holds an event of project {e.ProjectId}", keys);
                }
                keys.Add(new ArchivedEventKey(e.EventId, e.Timestamp));
                if (keys.Count % options.Value.SweepChunkEvents == 0)
                {
                    await ChunkDoneAsync(cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or FormatException or KeyNotFoundException)
        {
            return ("the object does not decode: " + e.Message, keys);
        }
        return keys.Count == info.Events ? (null, keys) : ($"the object holds {keys.Count} events, {info.Events} were written", keys);
    }

    internal static async Task<ArchiveManifest?> ReadManifestAsync(IArchiveTarget archive, ArchiveBatch batch, CancellationToken cancellationToken)
    {
        await using var stream = await archive.OpenReadAsync(batch.ManifestKey, cancellationToken);
        if (stream is null)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        try
        {
            return ArchiveFormat.DeserializeManifest(buffer.ToArray());
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes objects whose events left hot storage more than the archive retention ago; nothing else.</summary>
    private async Task<int> ExpireAsync(DateOnly today, Func<long, RetentionPolicy> policyOf, CancellationToken cancellationToken)
    {
        var expired = 0;
        foreach (var batch in await store.ListArchiveBatchesAsync(null, cancellationToken))
        {
            var policy = policyOf(batch.ProjectId);
            if (batch.State != ArchiveBatchState.Deleted || batch.Day.AddDays(policy.HotDays + policy.ArchiveDays) >= today)
            {
                continue;
            }
            await archive.DeleteAsync(batch.ObjectKey, cancellationToken);
            await archive.DeleteAsync(batch.ManifestKey, cancellationToken);
            await StepAsync(SweepStep.ObjectExpired, batch);
            await store.MarkArchiveBatchAsync(batch.Id, ArchiveBatchState.Expired, null, time.GetUtcNow(), cancellationToken);
            expired++;
        }
        return expired;
    }

    private Task StepAsync(SweepStep step, ArchiveBatch batch) => AfterStep?.Invoke(step, batch) ?? Task.CompletedTask;

    private static FileStream TemporaryFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "faultline-archive");
        Directory.CreateDirectory(folder);
        return new FileStream(Path.Combine(folder, Guid.NewGuid().ToString("N") + ".tmp"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
            1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Archived {Day}: {Batches} objects, {Events} events, to {Archive}")]
    private static partial void LogDayArchived(ILogger logger, DateOnly day, int batches, int events, string archive);

    [LoggerMessage(Level = LogLevel.Error, Message = "Archive object {Key} did not verify ({Problem}); its events stay hot and it is written again next run")]
    private static partial void LogVerifyFailed(ILogger logger, string key, string problem);
}

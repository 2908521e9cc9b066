using System.Collections.Concurrent;
using Faultline.Retention;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Npgsql;

namespace Faultline.Tests.Retention;

/// <summary>The sweep on a real store of each engine with a local folder archive and a fake clock.</summary>
public abstract class RetentionSweepTests(StoreKind kind) : IAsyncLifetime
{
    private RetentionHarness _h = null!;

    protected RetentionHarness Harness => _h;

    public async Task InitializeAsync() => _h = await RetentionHarness.CreateAsync(kind);

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private const int ArchivedDays = RetentionHarness.Days - RetentionHarness.HotDays - 1;

    [Fact]
    public async Task Days_past_hot_retention_are_archived_verified_and_gone_while_kept_issues_stay_hot()
    {
        var issueABefore = await _h.Store.GetIssueForUserAsync(_h.UserId, _h.IssueA, default);

        var report = await _h.Sweep().RunAsync(default);

        Assert.True(report.Ran);
        Assert.Equal(ArchivedDays, report.Batches);
        Assert.Equal(ArchivedDays * RetentionHarness.AEventsPerDay, report.EventsArchived);
        // The objects hold exactly the old events of issue A, each once.
        var archived = await _h.ArchivedIdsAsync();
        Assert.Equal(_h.AIdsOlderThan(RetentionHarness.HotDays).Order(), archived.Order());
        // Hot storage: A lost its old days; B (fatal, unreviewed) and C (keep_until_reviewed) kept all 40.
        var hotA = await _h.HotEventsAsync(_h.IssueA);
        Assert.Equal((RetentionHarness.HotDays + 1) * RetentionHarness.AEventsPerDay, hotA.Count);
        Assert.DoesNotContain(hotA, e => archived.Contains(e.EventId));
        Assert.Equal(RetentionHarness.Days, (await _h.HotEventsAsync(_h.IssueB)).Count);
        Assert.Equal(RetentionHarness.Days, (await _h.HotEventsAsync(_h.IssueC)).Count);
        // Issue counters are on the issue row and do not move.
        Assert.Equal(issueABefore, await _h.Store.GetIssueForUserAsync(_h.UserId, _h.IssueA, default));
        Assert.Equal(RetentionHarness.Days * RetentionHarness.AEventsPerDay, issueABefore!.TimesSeen);
        Assert.All(await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default), b =>
        {
            Assert.Equal(ArchiveBatchState.Deleted, b.State);
            Assert.Equal(RetentionHarness.AEventsPerDay, b.Info!.Events);
            Assert.Equal(64, b.Info.Sha256.Length);
        });
        if (kind == StoreKind.Postgres)
        {
            // Day 35 back had its own partition: dropped, with B's and C's rows moved to events_default.
            Assert.False(await PartitionExistsAsync(_h.Today.AddDays(-35)));
            Assert.True(await PartitionExistsAsync(_h.Today.AddDays(-29)));
            Assert.NotNull(await _h.Store.GetEventForUserAsync(_h.UserId, _h.BIds[35][0], default));
        }

        // Once B is reviewed, the next sweep archives its old events too (a second part for those days).
        await _h.Store.UpdateIssueAsync(_h.IssueB, new IssueUpdate(null, true), _h.Time.GetUtcNow(), default);
        var second = await _h.Sweep().RunAsync(default);
        Assert.Equal(ArchivedDays, second.EventsArchived);
        Assert.Equal(RetentionHarness.HotDays + 1, (await _h.HotEventsAsync(_h.IssueB)).Count);
        Assert.Equal(_h.AIdsOlderThan(RetentionHarness.HotDays).Concat(_h.BIdsOlderThan(RetentionHarness.HotDays)).Order(), (await _h.ArchivedIdsAsync()).Order());
        Assert.Contains(await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default), b => b.Sequence == 2);

        // C's flag is honoured until the issue is reviewed; a third run finds nothing more.
        Assert.Equal(RetentionHarness.Days, (await _h.HotEventsAsync(_h.IssueC)).Count);
        var third = await _h.Sweep().RunAsync(default);
        Assert.Equal(0, third.Batches);
    }

    [Fact]
    public async Task Keep_unreviewed_off_still_honours_keep_until_reviewed()
    {
        _h.Options.KeepUnreviewed = false;
        await _h.Sweep().RunAsync(default);
        Assert.Equal(RetentionHarness.HotDays + 1, (await _h.HotEventsAsync(_h.IssueB)).Count);
        Assert.Equal(RetentionHarness.Days, (await _h.HotEventsAsync(_h.IssueC)).Count);

        await _h.Store.SetKeepUntilReviewedAsync(_h.IssueC, false, default);
        await _h.Sweep().RunAsync(default);
        Assert.Equal(RetentionHarness.HotDays + 1, (await _h.HotEventsAsync(_h.IssueC)).Count);
    }

    [Fact]
    public async Task A_project_policy_overrides_the_organization_and_server_defaults()
    {
        var project = (await _h.Store.ListAllProjectsAsync(default)).Single();
        await _h.Store.SetRetentionPolicyAsync(RetentionScope.Organization, project.OrganizationId, new RetentionPolicy(35, 30, true, Events.EventLevel.Fatal), _h.Time.GetUtcNow(), default);
        Assert.Equal(RetentionHarness.Days - 36, (await _h.Sweep().RunAsync(default)).Batches);

        await _h.Store.SetRetentionPolicyAsync(RetentionScope.Project, project.Id, new RetentionPolicy(10, 30, true, Events.EventLevel.Fatal), _h.Time.GetUtcNow(), default);
        Assert.Equal(36 - 11, (await _h.Sweep().RunAsync(default)).Batches);
        Assert.Equal(11 * RetentionHarness.AEventsPerDay, (await _h.HotEventsAsync(_h.IssueA)).Count);
    }

    [Fact]
    public async Task Archive_retention_deletes_old_objects_and_nothing_else()
    {
        await _h.Sweep().RunAsync(default);
        var project = (await _h.Store.ListAllProjectsAsync(default)).Single();
        // Objects live 5 days past hot retention: days more than 35 back expire now.
        await _h.Store.SetRetentionPolicyAsync(RetentionScope.Project, project.Id, new RetentionPolicy(RetentionHarness.HotDays, 5, true, Events.EventLevel.Fatal), _h.Time.GetUtcNow(), default);
        var hotBefore = (await _h.HotEventsAsync()).Count;

        var report = await _h.Sweep().RunAsync(default);

        Assert.Equal(RetentionHarness.Days - 36, report.ObjectsExpired);
        var batches = await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default);
        foreach (var batch in batches)
        {
            var expired = batch.Day < _h.Today.AddDays(-35);
            Assert.Equal(expired ? ArchiveBatchState.Expired : ArchiveBatchState.Deleted, batch.State);
            await using var stream = await _h.Archive.OpenReadAsync(batch.ObjectKey, default);
            await using var manifest = await _h.Archive.OpenReadAsync(batch.ManifestKey, default);
            Assert.Equal(expired, stream is null);
            Assert.Equal(expired, manifest is null);
        }
        Assert.Equal(hotBefore, (await _h.HotEventsAsync()).Count);
        Assert.Equal(_h.AIds.Where(kv => kv.Key is > RetentionHarness.HotDays and <= 35).SelectMany(kv => kv.Value).Order(), (await _h.ArchivedIdsAsync()).Order());
    }

    [Theory]
    [InlineData(SweepStep.Planned)]
    [InlineData(SweepStep.ObjectWritten)]
    [InlineData(SweepStep.WriteRecorded)]
    [InlineData(SweepStep.Verified)]
    [InlineData(SweepStep.HotRowsDeleted)]
    public async Task A_crash_after_any_step_is_finished_by_the_next_run_with_nothing_lost_or_archived_twice(SweepStep step)
    {
        var crashing = _h.Sweep();
        var seen = 0;
        crashing.AfterStep = (s, _) => s == step && ++seen == 4 ? throw new SimulatedCrashException() : Task.CompletedTask;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.RunAsync(default));

        var rerun = await _h.Sweep().RunAsync(default);

        Assert.True(rerun.Ran); // the crashed run's lease did not block it
        var archived = await _h.ArchivedIdsAsync();
        Assert.Equal(archived.Count, archived.Distinct().Count());
        Assert.Equal(_h.AIdsOlderThan(RetentionHarness.HotDays).Order(), archived.Order());
        var hot = await _h.HotEventsAsync();
        Assert.Equal(RetentionHarness.Days * 5 - archived.Count, hot.Count);
        Assert.Empty(hot.Select(e => e.EventId).Intersect(archived));
        var batches = await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default);
        Assert.Equal(ArchivedDays, batches.Count);
        Assert.All(batches, b => Assert.Equal(ArchiveBatchState.Deleted, b.State));
        Assert.Equal(0, (await _h.Sweep().RunAsync(default)).Batches);
    }

    [Fact]
    public async Task A_crash_while_expiring_objects_is_finished_by_the_next_run()
    {
        await _h.Sweep().RunAsync(default);
        _h.Options.ArchiveDays = 5;
        var crashing = _h.Sweep();
        var seen = 0;
        crashing.AfterStep = (s, _) => s == SweepStep.ObjectExpired && ++seen == 2 ? throw new SimulatedCrashException() : Task.CompletedTask;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.RunAsync(default));

        var rerun = await _h.Sweep().RunAsync(default);

        Assert.Equal(RetentionHarness.Days - 36 - 1, rerun.ObjectsExpired);
        var batches = await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default);
        Assert.Equal(RetentionHarness.Days - 36, batches.Count(b => b.State == ArchiveBatchState.Expired));
        Assert.Equal((35 - RetentionHarness.HotDays) * RetentionHarness.AEventsPerDay, (await _h.ArchivedIdsAsync()).Count);
    }

    [Fact]
    public async Task Restore_brings_back_exactly_the_archived_events_searchable_and_they_are_swept_again_later()
    {
        await _h.Sweep().RunAsync(default);
        var archived = _h.AIdsOlderThan(RetentionHarness.HotDays).ToHashSet();
        var searchBefore = (await _h.HotEventsAsync(query: "TimeoutException")).Count;

        var report = await _h.Restore().RestoreAsync(_h.ProjectId, _h.Today.AddDays(-RetentionHarness.Days), _h.Today, default);

        Assert.Equal(ArchivedDays, report.Objects);
        Assert.Equal(archived.Count, report.Restored);
        var found = await _h.HotEventsAsync(query: "TimeoutException");
        Assert.Equal(searchBefore + archived.Count, found.Count);
        Assert.True(archived.IsSubsetOf(found.Select(e => e.EventId)));
        var one = await _h.Store.GetEventForUserAsync(_h.UserId, archived.First(), default);
        Assert.NotNull(one);
        Assert.Contains("TimeoutException", one.Payload, StringComparison.Ordinal);
        // Restoring again adds nothing; counters are untouched.
        var again = await _h.Restore().RestoreAsync(_h.ProjectId, _h.Today.AddDays(-RetentionHarness.Days), _h.Today, default);
        Assert.Equal(0, again.Restored);
        Assert.Equal(archived.Count, again.AlreadyPresent);
        Assert.Equal(RetentionHarness.Days * RetentionHarness.AEventsPerDay, (await _h.Store.GetIssueForUserAsync(_h.UserId, _h.IssueA, default))!.TimesSeen);

        // A sweep before RestoredDays keeps them; after, it removes them without archiving them again.
        Assert.Equal(0, (await _h.Sweep().RunAsync(default)).Batches);
        Assert.Equal(searchBefore + archived.Count, (await _h.HotEventsAsync(query: "TimeoutException")).Count);
        _h.Time.Advance(TimeSpan.FromDays(_h.Options.RestoredDays + 1));
        var later = await _h.Sweep().RunAsync(default);
        Assert.Equal(archived.Count, later.RestoredRemoved);
        var batches = await _h.Store.ListArchiveBatchesAsync(_h.ProjectId, default);
        Assert.All(batches.Where(b => b.Day < _h.Today.AddDays(-RetentionHarness.HotDays - _h.Options.RestoredDays - 1)), b => Assert.Equal(1, b.Sequence));
        var archivedNow = await _h.ArchivedIdsAsync();
        Assert.Equal(archivedNow.Count, archivedNow.Distinct().Count());
        Assert.DoesNotContain(await _h.HotEventsAsync(_h.IssueA), e => archived.Contains(e.EventId));
    }

    [Fact]
    public async Task A_throttled_sweep_pauses_after_every_chunk_keeps_its_lease_and_still_archives_everything()
    {
        // Each step "takes" 3 minutes of the fake clock; at a work share of 0.2 every chunk is followed by a
        // pause four times as long, so a day takes far longer than the 30-minute lease: renewals keep it.
        _h.Options.SweepWorkShare = 0.2;
        _h.Options.SweepChunkEvents = 1;
        var sweep = _h.Sweep();
        sweep.AfterStep = (_, _) =>
        {
            _h.Time.Advance(TimeSpan.FromMinutes(3));
            return Task.CompletedTask;
        };
        var started = _h.Time.GetUtcNow();
        var pauses = new ConcurrentQueue<TimeSpan>();
        var pausing = new SemaphoreSlim(0);
        sweep.Pausing = pause =>
        {
            pauses.Enqueue(pause);
            pausing.Release();
        };

        var run = sweep.RunAsync(default);
        var seen = new List<TimeSpan>();
        while (await Task.WhenAny(run, pausing.WaitAsync()) != run)
        {
            Assert.True(pauses.TryDequeue(out var pause));
            seen.Add(pause);
            var now = _h.Time.GetUtcNow();
            Assert.False(await _h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-b", now, now.AddMinutes(30), default));
            _h.Time.Advance(pause); // the pause ends: the sweep carries on
        }
        var report = await run;

        Assert.Equal(ArchivedDays, report.Batches);
        Assert.Equal(_h.AIdsOlderThan(RetentionHarness.HotDays).Order(), (await _h.ArchivedIdsAsync()).Order());
        Assert.Equal((RetentionHarness.HotDays + 1) * RetentionHarness.AEventsPerDay, (await _h.HotEventsAsync(_h.IssueA)).Count);
        // A pause after each chunk that took time: the first written and the first read back, and the delete, every day.
        Assert.True(seen.Count >= ArchivedDays * 3, $"{seen.Count} pauses");
        Assert.Equal(seen.Aggregate(TimeSpan.Zero, (a, b) => a + b), report.Paused);
        // Pauses are four times the work before them: the clock moved by work + pauses = 5/4 of the pauses.
        var elapsed = _h.Time.GetUtcNow() - started;
        Assert.Equal(elapsed.TotalMinutes, report.Paused.TotalMinutes * 5 / 4, precision: 3);
        Assert.True(elapsed > TimeSpan.FromHours(2));
    }

    [Fact]
    public async Task A_sweep_whose_lease_was_taken_while_it_paused_stops_and_the_new_holder_finishes()
    {
        _h.Options.SweepWorkShare = 0.5;
        _h.Options.SweepChunkEvents = 1;
        var sweep = _h.Sweep();
        var advanced = false;
        sweep.AfterStep = (_, _) =>
        {
            _h.Time.Advance(TimeSpan.FromMinutes(40)); // stalled past the lease
            return Task.CompletedTask;
        };
        sweep.Pausing = pause =>
        {
            if (!advanced)
            {
                advanced = true;
                // Another node takes the expired lease while this one pauses, for an hour.
                Assert.True(_h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-b", _h.Time.GetUtcNow(), _h.Time.GetUtcNow().AddHours(1), default).GetAwaiter().GetResult());
            }
            _h.Time.Advance(pause);
        };

        await Assert.ThrowsAsync<SweepLeaseLostException>(() => sweep.RunAsync(default));

        _h.Time.Advance(TimeSpan.FromHours(1));
        var rerun = await _h.Sweep().RunAsync(default);
        Assert.True(rerun.Ran);
        var archived = await _h.ArchivedIdsAsync();
        Assert.Equal(_h.AIdsOlderThan(RetentionHarness.HotDays).Order(), archived.Order());
        Assert.Empty((await _h.HotEventsAsync()).Select(e => e.EventId).Intersect(archived));
    }

    [Fact]
    public async Task Only_one_holder_has_the_sweep_lease_until_it_expires()
    {
        var now = _h.Time.GetUtcNow();
        Assert.True(await _h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-a", now, now.AddMinutes(30), default));
        Assert.False(await _h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-b", now, now.AddMinutes(30), default));
        Assert.False((await _h.Sweep().RunAsync(default)).Ran);
        Assert.True(await _h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-a", now, now.AddMinutes(40), default));
        Assert.True(await _h.Store.TryAcquireLeaseAsync(RetentionSweep.LeaseName, "node-b", now.AddMinutes(41), now.AddMinutes(70), default));
        await _h.Store.ReleaseLeaseAsync(RetentionSweep.LeaseName, "node-b", default);
        Assert.True((await _h.Sweep().RunAsync(default)).Ran);
    }

    private async Task<bool> PartitionExistsAsync(DateOnly day)
    {
        await using var connection = new NpgsqlConnection(_h.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass(@n) IS NOT NULL", connection);
        command.Parameters.AddWithValue("n", Faultline.Storage.Postgres.PostgresStore.PartitionName(day.ToDateTime(TimeOnly.MinValue)));
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}

public sealed class SimulatedCrashException : Exception;

public sealed class SqliteRetentionSweepTests() : RetentionSweepTests(StoreKind.Sqlite)
{
    [Fact]
    public async Task A_crash_between_delete_transactions_is_finished_by_the_next_run()
    {
        // SQLite deletes a batch in transactions of SweepChunkEvents rows: stop after the first of the second batch.
        Harness.Options.SweepChunkEvents = 1;
        var crashing = Harness.Sweep();
        var seen = 0;
        crashing.AfterStep = (s, _) => s == SweepStep.DeleteChunkCommitted && ++seen == 3 ? throw new SimulatedCrashException() : Task.CompletedTask;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.RunAsync(default));
        var batches = await Harness.Store.ListArchiveBatchesAsync(Harness.ProjectId, default);
        Assert.Equal(ArchiveBatchState.Verified, batches.Single(b => b.State != ArchiveBatchState.Deleted).State);

        var rerun = await Harness.Sweep().RunAsync(default);

        Assert.True(rerun.Ran);
        var archived = await Harness.ArchivedIdsAsync();
        Assert.Equal(archived.Count, archived.Distinct().Count());
        Assert.Equal(Harness.AIdsOlderThan(RetentionHarness.HotDays).Order(), archived.Order());
        var hot = await Harness.HotEventsAsync();
        Assert.Equal(RetentionHarness.Days * 5 - archived.Count, hot.Count);
        Assert.All(await Harness.Store.ListArchiveBatchesAsync(Harness.ProjectId, default), b => Assert.Equal(ArchiveBatchState.Deleted, b.State));
    }
}

public sealed class PostgresRetentionSweepTests() : RetentionSweepTests(StoreKind.Postgres);

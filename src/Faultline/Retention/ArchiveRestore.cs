namespace Faultline.Retention;

public sealed record RestoreReport(long ProjectId, DateOnly From, DateOnly To, int Objects, long ArchivedEvents, long Restored, long AlreadyPresent, int ExpiredObjects);

public sealed class ArchiveUnavailableException(string message) : Exception(message);

/// <summary>Lists a project's archive and brings archived days back into hot, searchable storage (marked restored).</summary>
public sealed class ArchiveRestore(IRetentionStore store, IArchiveTarget archive, TimeProvider time)
{
    private const int RestoreChunk = 1000;

    public async Task<IReadOnlyList<ArchiveBatch>> ListAsync(long projectId, DateOnly? from, DateOnly? to, CancellationToken cancellationToken)
    {
        var batches = await store.ListArchiveBatchesAsync(projectId, cancellationToken);
        return batches.Where(b => (from is null || b.Day >= from) && (to is null || b.Day <= to)).ToList();
    }

    /// <summary>
    /// Restores every archived object of the project whose day is in [from, to]. Each object is read
    /// whole and its SHA-256 checked before any row goes in; events already in hot storage are skipped,
    /// so restoring twice adds nothing. Issue counters are not changed: they already count these events.
    /// </summary>
    public async Task<RestoreReport> RestoreAsync(long projectId, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var batches = await ListAsync(projectId, from, to, cancellationToken);
        int objects = 0, expired = 0;
        long archived = 0, restored = 0;
        var now = time.GetUtcNow();
        foreach (var batch in batches)
        {
            if (batch.State == ArchiveBatchState.Expired)
            {
                expired++;
                continue;
            }
            if (batch.State != ArchiveBatchState.Deleted || batch.Info is not { } info)
            {
                continue; // not archived yet: its events are still hot
            }
            var events = await ReadCheckedAsync(batch, info, cancellationToken);
            for (var i = 0; i < events.Count; i += RestoreChunk)
            {
                restored += await store.RestoreEventsAsync(events.GetRange(i, Math.Min(RestoreChunk, events.Count - i)), now, cancellationToken);
            }
            objects++;
            archived += events.Count;
        }
        return new RestoreReport(projectId, from, to, objects, archived, restored, archived - restored, expired);
    }

    private async Task<List<ArchivedEvent>> ReadCheckedAsync(ArchiveBatch batch, ArchiveObjectInfo info, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await using (var source = await archive.OpenReadAsync(batch.ObjectKey, cancellationToken)
            ?? throw new ArchiveUnavailableException($"The archive object {batch.ObjectKey} is missing from {archive.Describe}."))
        {
            await source.CopyToAsync(buffer, cancellationToken);
        }
        buffer.Position = 0;
        if (await ArchiveFormat.Sha256HexAsync(buffer, cancellationToken) != info.Sha256)
        {
            throw new ArchiveUnavailableException($"The archive object {batch.ObjectKey} does not match its recorded SHA-256; nothing of it was restored.");
        }
        buffer.Position = 0;
        var events = new List<ArchivedEvent>((int)Math.Min(info.Events, int.MaxValue));
        await foreach (var e in ArchiveFormat.ReadAsync(buffer, cancellationToken))
        {
            events.Add(e);
        }
        return events;
    }
}

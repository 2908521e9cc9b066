using System.Collections.Concurrent;
using System.Threading.Channels;
using Faultline.Pipeline;
using Faultline.Retention;
using Faultline.Storage;

namespace Faultline.Docker;

/// <summary>
/// "Kept until reviewed": after a batch commits, every issue that received an event from a critical
/// container stream (tag <c>critical=true</c>: a listener with Critical, a name matching
/// CriticalContainers, or a watcher event of such a container) is marked keep_until_reviewed, so the
/// retention sweep leaves its events in the store until the issue is reviewed or resolved.
/// </summary>
public sealed partial class CriticalIssueMarker(IRetentionStore store, DockerMetrics metrics, TimeProvider time, ILogger<CriticalIssueMarker> logger)
    : BackgroundService, ICommittedBatchObserver
{
    private const int MaxRemembered = 100_000;

    /// <summary>
    /// An issue marked by this process is marked again by its next critical event after this long, so an
    /// issue released by a stream review on another node is held again when new critical lines arrive.
    /// </summary>
    private static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);

    private readonly Channel<long> _issues = Channel.CreateBounded<long>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    // Issues already marked by this process, and when: a busy critical stream costs one UPDATE per issue a minute, not one per line.
    private readonly ConcurrentDictionary<long, DateTimeOffset> _marked = new();

    /// <summary>After a review released these issues: the next critical event holds them again at once.</summary>
    public void Forget(IEnumerable<long> issueIds)
    {
        foreach (var issueId in issueIds)
        {
            _marked.TryRemove(issueId, out _);
        }
    }

    public void OnCommitted(BatchWriteResult batch)
    {
        var now = time.GetUtcNow();
        foreach (var stored in batch.Stored)
        {
            if (stored.Event.Event.Tags.TryGetValue("critical", out var critical) && critical == "true"
                && !(_marked.TryGetValue(stored.IssueId, out var markedAt) && now - markedAt < RememberFor))
            {
                if (_issues.Writer.TryWrite(stored.IssueId))
                {
                    _marked[stored.IssueId] = now;
                }
                else
                {
                    metrics.Dropped("critical-marker", "overloaded");
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var issueId in _issues.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await store.SetKeepUntilReviewedAsync(issueId, true, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _marked.TryRemove(issueId, out _); // the next critical event of the issue tries again
                    LogMarkFailed(logger, e, issueId);
                }
                if (_marked.Count > MaxRemembered)
                {
                    _marked.Clear();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark issue {IssueId} keep-until-reviewed")]
    private static partial void LogMarkFailed(ILogger logger, Exception exception, long issueId);
}

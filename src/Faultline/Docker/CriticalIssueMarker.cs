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
public sealed partial class CriticalIssueMarker(IRetentionStore store, DockerMetrics metrics, ILogger<CriticalIssueMarker> logger)
    : BackgroundService, ICommittedBatchObserver
{
    private const int MaxRemembered = 100_000;
    private readonly Channel<long> _issues = Channel.CreateBounded<long>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    // Issues already marked by this process: a busy critical stream costs one UPDATE per issue, not per line.
    private readonly ConcurrentDictionary<long, byte> _marked = new();

    public void OnCommitted(BatchWriteResult batch)
    {
        foreach (var stored in batch.Stored)
        {
            if (stored.Event.Event.Tags.TryGetValue("critical", out var critical) && critical == "true" && !_marked.ContainsKey(stored.IssueId))
            {
                if (_issues.Writer.TryWrite(stored.IssueId))
                {
                    _marked.TryAdd(stored.IssueId, 0);
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

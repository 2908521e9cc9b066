using Faultline.Events;
using Faultline.Ingest;
using Faultline.Issues;
using Faultline.Operations;
using Faultline.Storage;

namespace Faultline.Pipeline;

/// <summary>
/// The one path every front door uses after parsing: rate limit, group, serialise, then wait for
/// the batching writer's commit. Nothing is acknowledged before that commit.
/// </summary>
public sealed class IngestPipeline(EventWriter writer, ProjectRateLimiter rateLimiter, FaultlineMetrics metrics, TimeProvider time)
{
    public DateTimeOffset Now => time.GetUtcNow();

    public async Task<IReadOnlyList<Guid>> IngestAsync(ProjectKeyRecord key, IReadOnlyList<FaultlineEvent> events, DateTimeOffset receivedAt, string endpoint, CancellationToken cancellationToken)
    {
        await await EnqueueAsync(key, events, receivedAt, endpoint, cancellationToken);
        return events.Select(e => e.EventId).ToList();
    }

    /// <summary>
    /// Like <see cref="IngestAsync"/>, but returns once the events are queued for the writer; the returned
    /// task completes at their commit (or fails as IngestAsync would). A sender that must keep its order
    /// (a syslog connection) queues its next batch after this one without waiting for the commit in between.
    /// </summary>
    public async Task<Task> EnqueueAsync(ProjectKeyRecord key, IReadOnlyList<FaultlineEvent> events, DateTimeOffset receivedAt, string endpoint, CancellationToken cancellationToken)
    {
        if (await rateLimiter.TryAcquireAsync(key, events.Count, cancellationToken) is { } retryAfter)
        {
            metrics.Rejected(endpoint, "rate_limited", events.Count);
            throw new IngestRejectedException(StatusCodes.Status429TooManyRequests, "rate_limited",
                $"Project key rate limit exceeded; retry after {Math.Ceiling(retryAfter.TotalSeconds)} seconds.")
            { RetryAfter = retryAfter };
        }
        var prepared = new List<PreparedEvent>(events.Count);
        foreach (var e in events)
        {
            prepared.Add(Prepare(key.ProjectId, e, receivedAt));
        }
        var committed = await writer.EnqueueAsync(prepared, cancellationToken);
        return AcceptedAsync(committed, endpoint, events.Count);
    }

    private async Task AcceptedAsync(Task<BatchWriteResult> committed, string endpoint, int count)
    {
        await committed;
        metrics.Accepted(endpoint, count);
    }

    public static PreparedEvent Prepare(long projectId, FaultlineEvent e, DateTimeOffset receivedAt) =>
        new(projectId, e, Fingerprinter.Compute(e), IssueSummary.Title(e), IssueSummary.Culprit(e), receivedAt, EventJson.Serialize(e));
}

using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Faultline.Ingest;

/// <summary>A token bucket per project key, counting events (not requests).</summary>
public sealed class ProjectRateLimiter(IOptions<IngestOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<long, TokenBucketRateLimiter> _buckets = new();

    /// <returns>Null when the events may pass, else how long the client should wait.</returns>
    public TimeSpan? TryAcquire(Storage.ProjectKeyRecord key, int events)
    {
        var bucket = _buckets.GetOrAdd(key.Id, _ => CreateBucket(key.RateLimitPerSecond ?? options.Value.RateLimit.EventsPerSecond));
        // A batch larger than the bucket could never pass; it costs a full bucket instead.
        using var lease = bucket.AttemptAcquire(Math.Min(events, options.Value.RateLimit.Burst));
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    private TokenBucketRateLimiter CreateBucket(double eventsPerSecond)
    {
        // Refill ten times a second when the rate allows, so a bucket never waits a whole second to refill.
        var (period, tokens) = eventsPerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), (int)Math.Min(int.MaxValue, Math.Round(eventsPerSecond / 10)))
            : (TimeSpan.FromSeconds(1 / eventsPerSecond), 1);
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.RateLimit.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = 0,
        });
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }
}

using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Faultline.Ingest;

/// <summary>
/// A token bucket per project key, counting events (not requests). A key's bucket is rebuilt when
/// the key arrives with a different rate than the bucket was made for (its limit was changed).
/// With a shared limiter (Redis, several nodes) the bucket lives there; this node's own buckets
/// decide only while the shared one cannot answer.
/// </summary>
public sealed class ProjectRateLimiter(IOptions<IngestOptions> options, ISharedRateLimiter? shared = null) : IDisposable
{
    /// <summary>A key's own limit also caps its burst at this many seconds of events (at most the configured Burst).</summary>
    public const int OwnLimitBurstSeconds = 5;

    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();

    private sealed record Bucket(double Rate, int Burst, TokenBucketRateLimiter Limiter);

    /// <returns>Null when the events may pass, else how long the client should wait.</returns>
    public async ValueTask<TimeSpan?> TryAcquireAsync(Storage.ProjectKeyRecord key, int events, CancellationToken cancellationToken)
    {
        if (shared is not null)
        {
            var (rate, burst) = Limits(key.RateLimitPerSecond);
            var answer = await shared.TryAcquireAsync(key.Id, rate, burst, Math.Min(events, burst), cancellationToken);
            if (answer.Answered)
            {
                return answer.RetryAfter;
            }
        }
        return TryAcquire(key, events);
    }

    /// <summary>This node's own bucket for the key.</summary>
    /// <returns>Null when the events may pass, else how long the client should wait.</returns>
    public TimeSpan? TryAcquire(Storage.ProjectKeyRecord key, int events)
    {
        var rate = key.RateLimitPerSecond ?? options.Value.RateLimit.EventsPerSecond;
        while (true)
        {
            var bucket = _buckets.GetOrAdd(key.Id, _ => CreateBucket(key.RateLimitPerSecond));
            if (bucket.Rate != rate)
            {
                var replacement = CreateBucket(key.RateLimitPerSecond);
                (_buckets.TryUpdate(key.Id, replacement, bucket) ? bucket : replacement).Limiter.Dispose();
                continue;
            }
            try
            {
                // A batch larger than the bucket could never pass; it costs a full bucket instead.
                using var lease = bucket.Limiter.AttemptAcquire(Math.Min(events, bucket.Burst));
                if (lease.IsAcquired)
                {
                    return null;
                }
                return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            }
            catch (ObjectDisposedException)
            {
                // Another request replaced this bucket (new rate) or the key was revoked meanwhile: look again.
            }
        }
    }

    /// <summary>Drops the key's bucket (the key was revoked).</summary>
    public void Forget(long keyId)
    {
        if (_buckets.TryRemove(keyId, out var bucket))
        {
            bucket.Limiter.Dispose();
        }
    }

    /// <summary>A key's sustained rate and bucket size: its own limit, else the configured defaults.</summary>
    private (double EventsPerSecond, int Burst) Limits(double? ownRate)
    {
        var eventsPerSecond = ownRate ?? options.Value.RateLimit.EventsPerSecond;
        var burst = ownRate is { } own
            ? (int)Math.Clamp(Math.Ceiling(own * OwnLimitBurstSeconds), 1, options.Value.RateLimit.Burst)
            : options.Value.RateLimit.Burst;
        return (eventsPerSecond, burst);
    }

    private Bucket CreateBucket(double? ownRate)
    {
        var (eventsPerSecond, burst) = Limits(ownRate);
        // Refill ten times a second when the rate allows, so a bucket never waits a whole second to refill.
        var (period, tokens) = eventsPerSecond >= 10
            ? (TimeSpan.FromMilliseconds(100), (int)Math.Min(int.MaxValue, Math.Round(eventsPerSecond / 10)))
            : (TimeSpan.FromSeconds(1 / eventsPerSecond), 1);
        return new Bucket(eventsPerSecond, burst, new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = 0,
        }));
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Limiter.Dispose();
        }
    }
}

namespace Faultline.Ingest;

/// <summary>What a counter shared by every node answered; <see cref="Answered"/> false when it could not be asked.</summary>
public readonly record struct SharedRateLimitAnswer(bool Answered, TimeSpan? RetryAfter)
{
    public static readonly SharedRateLimitAnswer Unavailable = new(false, null);
}

/// <summary>
/// A project key's token bucket counted across nodes (Redis when configured), so N nodes together
/// enforce the configured rate instead of N times it.
/// </summary>
public interface ISharedRateLimiter
{
    /// <summary>Takes <paramref name="events"/> tokens from the key's bucket, or answers how long to wait; never throws.</summary>
    Task<SharedRateLimitAnswer> TryAcquireAsync(long keyId, double eventsPerSecond, int burst, int events, CancellationToken cancellationToken);
}

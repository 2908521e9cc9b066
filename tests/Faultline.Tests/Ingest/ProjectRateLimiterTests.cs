using Faultline.Ingest;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Tests.Ingest;

public sealed class ProjectRateLimiterTests : IDisposable
{
    // One token a second refills far slower than these tests run, so no refill can interfere.
    private readonly ProjectRateLimiter _limiter = new(Options.Create(new IngestOptions
    {
        RateLimit = new RateLimitOptions { Burst = 10, EventsPerSecond = 1 },
    }));

    private static ProjectKeyRecord Key(long id, double? rateLimitPerSecond = null) =>
        new(id, ProjectId: 1, OrganizationId: 1, PublicKey: $"{id:x32}", DateTimeOffset.UnixEpoch, RevokedAt: null, rateLimitPerSecond);

    public void Dispose() => _limiter.Dispose();

    [Fact]
    public void A_full_bucket_lets_burst_events_pass_and_refuses_the_next()
    {
        var key = Key(1);

        for (var i = 0; i < 10; i++)
        {
            Assert.Null(_limiter.TryAcquire(key, 1));
        }
        var retryAfter = _limiter.TryAcquire(key, 1);

        Assert.NotNull(retryAfter);
        Assert.True(retryAfter > TimeSpan.Zero, $"retry after {retryAfter}");
        Assert.True(retryAfter <= TimeSpan.FromSeconds(1), $"retry after {retryAfter}");
    }

    [Fact]
    public void Events_are_counted_not_requests()
    {
        var key = Key(1);

        Assert.Null(_limiter.TryAcquire(key, 7));
        Assert.Null(_limiter.TryAcquire(key, 3));
        Assert.NotNull(_limiter.TryAcquire(key, 1));
    }

    [Fact]
    public void A_batch_that_does_not_fit_is_refused_without_using_tokens()
    {
        var key = Key(1);

        Assert.Null(_limiter.TryAcquire(key, 8));
        Assert.NotNull(_limiter.TryAcquire(key, 3));
        Assert.Null(_limiter.TryAcquire(key, 2));
    }

    [Fact]
    public void Separate_keys_have_separate_buckets()
    {
        var first = Key(1);
        var second = Key(2);

        Assert.Null(_limiter.TryAcquire(first, 10));
        Assert.NotNull(_limiter.TryAcquire(first, 1));

        Assert.Null(_limiter.TryAcquire(second, 10));
        Assert.NotNull(_limiter.TryAcquire(second, 1));
    }

    [Fact]
    public void A_batch_larger_than_the_burst_costs_a_full_bucket()
    {
        var key = Key(1);

        Assert.Null(_limiter.TryAcquire(key, 50));
        Assert.NotNull(_limiter.TryAcquire(key, 1));
        Assert.NotNull(_limiter.TryAcquire(key, 50));
    }

    [Fact]
    public void A_batch_larger_than_the_burst_is_refused_when_the_bucket_is_not_full()
    {
        var key = Key(1);

        Assert.Null(_limiter.TryAcquire(key, 1));

        Assert.NotNull(_limiter.TryAcquire(key, 50));
    }

    [Fact]
    public void A_key_with_its_own_slower_rate_is_told_to_wait_longer()
    {
        var slow = Key(1, rateLimitPerSecond: 0.1);
        var normal = Key(2);

        Assert.Null(_limiter.TryAcquire(slow, 10));
        Assert.Null(_limiter.TryAcquire(normal, 10));
        var slowWait = _limiter.TryAcquire(slow, 1);
        var normalWait = _limiter.TryAcquire(normal, 1);

        Assert.NotNull(slowWait);
        Assert.NotNull(normalWait);
        Assert.True(slowWait >= TimeSpan.FromSeconds(5), $"slow key waits {slowWait}");
        Assert.True(normalWait <= TimeSpan.FromSeconds(1), $"normal key waits {normalWait}");
    }

    [Fact]
    public void A_key_whose_rate_changed_gets_a_bucket_at_the_new_rate()
    {
        Assert.Null(_limiter.TryAcquire(Key(1), 10));
        Assert.NotNull(_limiter.TryAcquire(Key(1), 1));

        // The limit was raised through the API: the next request carries the new rate.
        var raised = Key(1, rateLimitPerSecond: 1000);
        Assert.Null(_limiter.TryAcquire(raised, 10));

        // Lowered to 0.2/s: the burst is capped at five seconds' worth, one event.
        var lowered = Key(1, rateLimitPerSecond: 0.2);
        Assert.Null(_limiter.TryAcquire(lowered, 1));
        var wait = _limiter.TryAcquire(lowered, 1);
        Assert.True(wait >= TimeSpan.FromSeconds(4), $"waits {wait}");
    }

    [Fact]
    public void A_forgotten_key_starts_again_with_a_full_bucket()
    {
        Assert.Null(_limiter.TryAcquire(Key(1), 10));
        Assert.NotNull(_limiter.TryAcquire(Key(1), 1));

        _limiter.Forget(1);

        Assert.Null(_limiter.TryAcquire(Key(1), 10));
    }
}

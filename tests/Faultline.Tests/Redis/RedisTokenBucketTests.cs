using System.Diagnostics;
using System.Diagnostics.Metrics;
using Faultline.Redis;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Faultline.Tests.Redis;

/// <summary>The shared token bucket's Lua script against the real Redis, without a server around it.</summary>
public sealed class RedisTokenBucketTests : IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private RedisConnection _connection = null!;
    private RedisTokenBucket _bucket = null!;

    public async Task InitializeAsync()
    {
        (_connection, _bucket) = await ConnectAsync(TestRedis.Shared().Settings($"flt-test-{Guid.NewGuid():N}:"));
        var watch = Stopwatch.StartNew();
        while (!_connection.IsConnected)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "Not connected to the test Redis within 10 s.");
            await Task.Delay(50);
        }
    }

    private async Task<(RedisConnection, RedisTokenBucket)> ConnectAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var options = Options.Create(new RedisOptions
        {
            ConnectionString = settings["Faultline:Redis:ConnectionString"],
            Password = settings.GetValueOrDefault("Faultline:Redis:Password"),
            Prefix = settings.GetValueOrDefault("Faultline:Redis:Prefix") ?? "faultline:",
            // These tests check the script's arithmetic, not timeouts: the first call (script load)
            // must not fall back to local limits because the test run started slowly.
            OperationTimeoutMilliseconds = 5_000,
        });
        var connection = new RedisConnection(options, TimeProvider.System, NullLogger<RedisConnection>.Instance);
        await connection.StartAsync(CancellationToken.None);
        var metrics = new RedisMetrics(_services.GetRequiredService<IMeterFactory>(), connection);
        return (connection, new RedisTokenBucket(connection, metrics, NullLogger<RedisTokenBucket>.Instance));
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task The_burst_passes_and_then_the_answer_is_the_time_until_enough_tokens_are_back()
    {
        for (var i = 0; i < 5; i++)
        {
            var taken = await _bucket.TryAcquireAsync(1, eventsPerSecond: 1, burst: 5, events: 1, CancellationToken.None);
            Assert.Equal(new Faultline.Ingest.SharedRateLimitAnswer(true, null), taken);
        }
        var refused = await _bucket.TryAcquireAsync(1, eventsPerSecond: 1, burst: 5, events: 2, CancellationToken.None);

        Assert.True(refused.Answered);
        // Two tokens at one per second, less what refilled between the calls.
        Assert.InRange(refused.RetryAfter!.Value.TotalSeconds, 1.0, 2.0);
    }

    [Fact]
    public async Task Keys_have_their_own_buckets_and_a_refusal_takes_nothing()
    {
        Assert.Null((await _bucket.TryAcquireAsync(2, 0.001, burst: 3, events: 3, CancellationToken.None)).RetryAfter);
        Assert.NotNull((await _bucket.TryAcquireAsync(2, 0.001, burst: 3, events: 1, CancellationToken.None)).RetryAfter);
        Assert.Null((await _bucket.TryAcquireAsync(3, 0.001, burst: 3, events: 2, CancellationToken.None)).RetryAfter);
        // The refused request for 2 tokens on key 3 leaves the last token for a request of 1.
        Assert.NotNull((await _bucket.TryAcquireAsync(3, 0.001, burst: 3, events: 2, CancellationToken.None)).RetryAfter);
        Assert.Null((await _bucket.TryAcquireAsync(3, 0.001, burst: 3, events: 1, CancellationToken.None)).RetryAfter);
    }

    [Fact]
    public async Task An_unreachable_Redis_is_not_asked_and_the_caller_decides_alone()
    {
        var closedPort = TestRedis.FreePort();
        var (connection, bucket) = await ConnectAsync(new Dictionary<string, string?> { ["Faultline:Redis:ConnectionString"] = $"127.0.0.1:{closedPort}" });
        await using (connection)
        {
            var watch = Stopwatch.StartNew();
            var answer = await bucket.TryAcquireAsync(1, 1, 5, 1, CancellationToken.None);

            Assert.False(answer.Answered);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"Took {watch.Elapsed} to give up on a Redis that is not there.");
        }
    }
}

using System.ComponentModel.DataAnnotations;

namespace Faultline.Redis;

/// <summary>
/// Redis for several nodes: the live-stream backplane and shared rate-limit counters. Without a
/// connection string Faultline runs as one node and never touches Redis.
/// </summary>
public sealed class RedisOptions
{
    public const string Section = "Faultline:Redis";

    /// <summary>A StackExchange.Redis configuration string ("redis:6379", several endpoints comma separated); empty: no Redis.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Kept apart from the connection string so it can come from its own secret; wins over a password= in it.</summary>
    public string? Password { get; set; }

    /// <summary>Starts every key and channel, so several installations (or test runs) can share one Redis.</summary>
    [RegularExpression("^[A-Za-z0-9:_.-]{1,64}$", ErrorMessage = "Faultline:Redis:Prefix may hold letters, digits and : _ . - (at most 64).")]
    public string Prefix { get; set; } = "faultline:";

    /// <summary>
    /// How long one Redis call may take before the node stops waiting (rate limit: decided locally;
    /// live: the batch is dropped). Short, because ingest must never wait on Redis; Redis answers in well under a millisecond.
    /// </summary>
    [Range(10, 60_000)]
    public int OperationTimeoutMilliseconds { get; set; } = 250;

    /// <summary>After a failed call, Redis is left alone for this long (decisions stay local), so a hung Redis costs one timeout, not one per request.</summary>
    [Range(0, 3_600)]
    public int RetryAfterFailureSeconds { get; set; } = 5;

    /// <summary>Committed batches waiting to be published to other nodes; beyond it they are dropped and counted (never blocks the writer).</summary>
    [Range(1, 1_000_000)]
    public int PublishQueueBatches { get; set; } = 1_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString);
}

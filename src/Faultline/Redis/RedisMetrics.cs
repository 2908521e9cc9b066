using System.Diagnostics.Metrics;
using Faultline.Operations;

namespace Faultline.Redis;

/// <summary>What several nodes add to the "Faultline" meter: backplane traffic, drops, Redis errors and local fallbacks.</summary>
public sealed class RedisMetrics
{
    private readonly Counter<long> _published;
    private readonly Counter<long> _received;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _rateLimitFallbacks;

    public RedisMetrics(IMeterFactory meterFactory, RedisConnection connection)
    {
        var meter = meterFactory.Create(FaultlineMetrics.MeterName);
        _published = meter.CreateCounter<long>("faultline.live.backplane.published", "{event}", "Committed events published to other nodes through Redis.");
        _received = meter.CreateCounter<long>("faultline.live.backplane.received", "{event}", "Events of other nodes received through Redis and offered to this node's subscribers.");
        _dropped = meter.CreateCounter<long>("faultline.live.backplane.dropped", "{event}", "Committed events not published to other nodes, by reason (redis_unavailable, queue_full).");
        _errors = meter.CreateCounter<long>("faultline.redis.errors", "{error}", "Redis calls that failed or timed out, by operation.");
        _rateLimitFallbacks = meter.CreateCounter<long>("faultline.ratelimit.local_fallbacks", "{request}", "Rate-limit decisions made by this node alone because Redis could not answer.");
        // Exported from the start at 0, so rate() and alerts on them work before the first failure.
        _dropped.Add(0, new KeyValuePair<string, object?>("reason", "redis_unavailable"));
        _errors.Add(0, new KeyValuePair<string, object?>("operation", "live_publish"));
        _errors.Add(0, new KeyValuePair<string, object?>("operation", "rate_limit"));
        _rateLimitFallbacks.Add(0);
        meter.CreateObservableGauge("faultline.redis.connected", () => connection.IsConnected ? 1 : 0, "{connection}",
            "1 while this node is connected to Redis; 0 when Redis is configured but unreachable (absent without Redis).");
    }

    public void Published(int events) => _published.Add(events);

    public void Received(int events) => _received.Add(events);

    public void Dropped(int events, string reason) => _dropped.Add(events, new KeyValuePair<string, object?>("reason", reason));

    public void Error(string operation) => _errors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void RateLimitFallback() => _rateLimitFallbacks.Add(1);
}

using System.Globalization;
using Faultline.Ingest;
using StackExchange.Redis;

namespace Faultline.Redis;

/// <summary>
/// The project key token bucket kept in Redis, so every node takes from the same bucket. One Lua
/// script refills and takes atomically, with Redis's own clock (nodes' clocks may differ). When Redis
/// cannot answer in time the caller decides with its local bucket instead: availability over
/// strictness, so an outage at most multiplies the limit by the node count for its duration.
/// </summary>
public sealed partial class RedisTokenBucket(RedisConnection redis, RedisMetrics metrics, ILogger<RedisTokenBucket> logger) : ISharedRateLimiter
{
    // KEYS[1]: the bucket hash. ARGV: rate (tokens per second), burst (bucket size), tokens wanted.
    // Returns the seconds to wait as a string ("0" when taken); Lua numbers would be cut to integers.
    // The hash expires once it would be full again, when forgetting it changes nothing.
    private const string Script = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local wanted = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1])
        local at = tonumber(state[2])
        if tokens == nil or at == nil then
          tokens = burst
          at = now
        end
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
        local wait = 0
        if tokens >= wanted then
          tokens = tokens - wanted
        else
          wait = (wanted - tokens) / rate
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
        return tostring(wait)
        """;

    private int _degraded;

    public async Task<SharedRateLimitAnswer> TryAcquireAsync(long keyId, double eventsPerSecond, int burst, int events, CancellationToken cancellationToken)
    {
        if (redis.Usable is not { } connection)
        {
            Fallback("not connected");
            return SharedRateLimitAnswer.Unavailable;
        }
        try
        {
            var result = await connection.GetDatabase().ScriptEvaluateAsync(Script,
                    [new RedisKey(redis.Prefix + "ratelimit:" + keyId.ToString(CultureInfo.InvariantCulture))],
                    [eventsPerSecond, burst, events])
                .WaitAsync(redis.OperationTimeout, cancellationToken);
            if (Interlocked.Exchange(ref _degraded, 0) == 1)
            {
                LogShared(logger);
            }
            var wait = double.Parse((string?)result ?? "0", CultureInfo.InvariantCulture);
            return new SharedRateLimitAnswer(true, wait > 0 ? TimeSpan.FromSeconds(Math.Max(wait, 0.001)) : null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            redis.CallFailed();
            metrics.Error("rate_limit");
            Fallback(e.Message);
            return SharedRateLimitAnswer.Unavailable;
        }
    }

    private void Fallback(string reason)
    {
        metrics.RateLimitFallback();
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            LogLocal(logger, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis cannot count rate limits ({Reason}): each node limits project keys on its own until it answers again")]
    private static partial void LogLocal(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate limits are counted in Redis across nodes again")]
    private static partial void LogShared(ILogger logger);
}

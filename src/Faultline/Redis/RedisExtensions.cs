using Faultline.Ingest;
using Faultline.Live;
using Faultline.Pipeline;

namespace Faultline.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// With Faultline:Redis:ConnectionString set, nodes share the live stream (Redis pub/sub) and the
    /// project key rate limits (a token bucket in Redis); without it nothing here is registered.
    /// </summary>
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RedisOptions>()
            .Bind(builder.Configuration.GetSection(RedisOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => !o.Enabled || IsValid(o.ConnectionString!),
                "Faultline:Redis:ConnectionString is not a StackExchange.Redis configuration (host:port, more endpoints and options comma separated).")
            .ValidateOnStart();
        if (builder.Configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() is not { Enabled: true })
        {
            return builder;
        }
        builder.Services.AddSingleton<RedisConnection>();
        builder.Services.AddHostedService(s => s.GetRequiredService<RedisConnection>());
        builder.Services.AddSingleton<RedisMetrics>();
        builder.Services.AddSingleton<ISharedRateLimiter, RedisTokenBucket>();
        builder.Services.AddSingleton<RedisLiveBackplane>();
        builder.Services.AddHostedService(s => s.GetRequiredService<RedisLiveBackplane>());
        builder.Services.AddSingleton<ICommittedBatchObserver>(s => s.GetRequiredService<RedisLiveBackplane>());
        return builder;
    }

    private static bool IsValid(string connectionString)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(connectionString).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

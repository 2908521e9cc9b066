using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Faultline.Redis;

/// <summary>
/// This node's one connection to Redis (StackExchange.Redis multiplexes every caller over it). It
/// connects in the background so a Redis that is down never delays start, reconnects by itself,
/// fails calls at once while disconnected instead of queueing them, and after a failed or slow call
/// tells callers to leave Redis alone for a short while, so a hung Redis costs one timeout, not one per request.
/// </summary>
public sealed partial class RedisConnection : IHostedService, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisConnection> _logger;
    private ConnectionMultiplexer? _multiplexer;
    private long _leaveAloneUntilTicks;

    public RedisConnection(IOptions<RedisOptions> options, TimeProvider time, ILogger<RedisConnection> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        OperationTimeout = TimeSpan.FromMilliseconds(_options.OperationTimeoutMilliseconds);
    }

    /// <summary>Starts every key and channel name.</summary>
    public string Prefix => _options.Prefix;

    public TimeSpan OperationTimeout { get; }

    public bool IsConnected => _multiplexer?.IsConnected == true;

    /// <summary>The connection, connected or not (null until set up): for subscriptions, which StackExchange.Redis keeps across reconnects.</summary>
    public IConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <summary>The connection when a call is worth trying now: connected, and no recent failure.</summary>
    public IConnectionMultiplexer? Usable =>
        IsConnected && _time.GetUtcNow().UtcTicks >= Interlocked.Read(ref _leaveAloneUntilTicks) ? _multiplexer : null;

    /// <summary>A call failed or timed out: decide without Redis for RetryAfterFailureSeconds.</summary>
    public void CallFailed() =>
        Interlocked.Exchange(ref _leaveAloneUntilTicks, (_time.GetUtcNow() + TimeSpan.FromSeconds(_options.RetryAfterFailureSeconds)).UtcTicks);

    /// <summary>Raised once the first connection is made (subscriptions are set up then; StackExchange.Redis restores them after reconnects).</summary>
    public event Action<IConnectionMultiplexer>? Connected;

    public static ConfigurationOptions Configuration(RedisOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.ConnectionString!);
        if (!string.IsNullOrEmpty(options.Password))
        {
            configuration.Password = options.Password;
        }
        // Keep trying in the background instead of failing start; reconnect on its own after a drop.
        configuration.AbortOnConnectFail = false;
        // While disconnected, fail calls at once: the rate limiter then decides locally and the live
        // publisher drops, instead of requests queueing behind a dead connection.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = Math.Max(configuration.ConnectTimeout > 0 ? Math.Min(configuration.ConnectTimeout, 5_000) : 5_000, options.OperationTimeoutMilliseconds);
        configuration.AsyncTimeout = options.OperationTimeoutMilliseconds;
        configuration.SyncTimeout = options.OperationTimeoutMilliseconds;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(500, 5_000);
        configuration.ClientName ??= "faultline";
        return configuration;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(ConnectAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ConnectAsync()
    {
        var configuration = Configuration(_options);
        var endpoints = string.Join(",", configuration.EndPoints.Select(e => e.ToString()));
        try
        {
            // With AbortOnConnectFail off this returns even when Redis is down, and keeps connecting.
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
            multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(_logger, e.EndPoint?.ToString() ?? endpoints, e.FailureType.ToString(), e.Exception?.Message);
            multiplexer.ConnectionRestored += (_, e) => LogConnectionRestored(_logger, e.EndPoint?.ToString() ?? endpoints);
            _multiplexer = multiplexer;
            if (!multiplexer.IsConnected)
            {
                LogNotConnectedYet(_logger, endpoints);
            }
            Connected?.Invoke(multiplexer);
        }
        catch (Exception e)
        {
            // A configuration the client refuses (bad endpoint syntax...): Faultline goes on as one node.
            LogConnectFailed(_logger, endpoints, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
            await multiplexer.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoint} is not reachable yet; this node keeps trying and meanwhile rate-limits locally and delivers live events to its own subscribers only")]
    private static partial void LogNotConnectedYet(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the Redis connection to {Endpoint} ({FailureType}: {Reason}); reconnecting. Meanwhile rate limits are local and live events stay on this node")]
    private static partial void LogConnectionFailed(ILogger logger, string endpoint, string failureType, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection to {Endpoint} restored")]
    private static partial void LogConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not set up the Redis connection to {Endpoint}; this node runs without Redis")]
    private static partial void LogConnectFailed(ILogger logger, string endpoint, Exception exception);
}

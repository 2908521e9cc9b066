using Faultline.Alerts.Channels;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Faultline.Alerts;

/// <summary>
/// Sends outbox rows. Each due row is leased (so several nodes never send it twice at once), sent with
/// a Polly retry (a few attempts seconds apart for a blip), then marked delivered, failed for good
/// (a permanent error, or the last dispatch), or pending again after an exponential backoff that lives
/// in the row and so survives restarts. Delivery is at-least-once: a crash after sending and before
/// recording sends again.
/// </summary>
public sealed partial class OutboxDispatcher : BackgroundService
{
    private const int ClaimLimit = 20;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    private readonly IAlertStore _store;
    private readonly Dictionary<string, IChannelSender> _senders;
    private readonly TimeProvider _time;
    private readonly DeliveryOptions _options;
    private readonly AlertMetrics _metrics;
    private readonly ILogger<OutboxDispatcher> _logger;
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SemaphoreSlim _running = new(1, 1);

    public OutboxDispatcher(IAlertStore store, IEnumerable<IChannelSender> senders, TimeProvider time, IOptions<AlertOptions> options,
        AlertMetrics metrics, ILogger<OutboxDispatcher> logger)
    {
        _store = store;
        _senders = senders.ToDictionary(s => s.Type, StringComparer.Ordinal);
        _time = time;
        _options = options.Value.Delivery;
        _metrics = metrics;
        _logger = logger;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (_options.AttemptsPerDispatch > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DeliveryException>(e => !e.Permanent),
                MaxRetryAttempts = _options.AttemptsPerDispatch - 1,
                Delay = _options.FirstRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
            });
        }
        _retry = builder.Build();
    }

    /// <summary>New rows are waiting: dispatch now rather than at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DispatchDueAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogDispatchFailed(_logger, e);
            }
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(_options.PollInterval, _time, poll.Token);
            try
            {
                await Task.WhenAny(delay, _wake.WaitAsync(poll.Token));
            }
            finally
            {
                await poll.CancelAsync();
            }
        }
    }

    /// <summary>Sends every row due now; returns how many were attempted.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            var attempted = 0;
            while (true)
            {
                var now = _time.GetUtcNow();
                var due = await _store.ClaimDueOutboxAsync(now, now + Lease, ClaimLimit, cancellationToken);
                if (due.Count == 0)
                {
                    return attempted;
                }
                foreach (var entry in due)
                {
                    await DispatchAsync(entry, cancellationToken);
                    attempted++;
                }
            }
        }
        finally
        {
            _running.Release();
        }
    }

    private async Task DispatchAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        var attempts = entry.Attempts + 1;
        try
        {
            var note = await _retry.ExecuteAsync(async token => await SendAsync(entry, token), cancellationToken);
            var now = _time.GetUtcNow();
            await _store.CompleteOutboxAsync(entry.Id, OutboxStatus.Delivered, attempts, now, note, now, CancellationToken.None);
            _metrics.Delivery(entry.ChannelType, "delivered");
            _metrics.Delivered(now - entry.CreatedAt);
        }
        catch (DeliveryException e)
        {
            var now = _time.GetUtcNow();
            var final = e.Permanent || attempts >= _options.MaxDispatches;
            var next = final ? now : now + (_options.DispatchBackoff * Math.Pow(2, attempts - 1));
            await _store.CompleteOutboxAsync(entry.Id, final ? OutboxStatus.Failed : OutboxStatus.Pending, attempts, next, e.Message, null, CancellationToken.None);
            _metrics.Delivery(entry.ChannelType, final ? "failed" : "retry");
            LogDeliveryFailed(_logger, entry.Id, entry.ChannelType, attempts, final, e.Message);
        }
    }

    private async Task<string?> SendAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        if (!_senders.TryGetValue(entry.ChannelType, out var sender))
        {
            throw new DeliveryException($"No sender for channel type '{entry.ChannelType}'.", permanent: true);
        }
        AlertChannel? channel = null;
        string? secret = null;
        if (entry.ChannelId is { } channelId)
        {
            var found = await _store.GetChannelWithSecretAsync(channelId, cancellationToken)
                ?? throw new DeliveryException("The channel was deleted before the notification was sent.", permanent: true);
            (channel, secret) = found;
        }
        return await sender.SendAsync(entry, channel, secret, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox dispatch failed")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);

    // The message comes from DeliveryException texts, which never contain secrets.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {OutboxId} over {Channel} failed (dispatch {Attempt}, final: {Final}): {Problem}")]
    private static partial void LogDeliveryFailed(ILogger logger, long outboxId, string channel, int attempt, bool final, string problem);
}

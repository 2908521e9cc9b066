using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Faultline.Events;
using Faultline.Pipeline;
using Faultline.Redis;
using Faultline.Storage;
using StackExchange.Redis;

namespace Faultline.Live;

/// <summary>
/// Carries committed events between nodes over Redis pub/sub, one channel per installation. Each node
/// publishes the batches it committed (its own subscribers already got them from <see cref="LiveHub"/>)
/// and hands other nodes' batches to its hub, which applies the same project scoping, filters and
/// bounded buffers. A node's own messages come back to it and are skipped by node id, so nobody gets
/// an event twice. Publication runs on its own loop off a bounded queue: the writer never waits on
/// Redis, and while Redis is down or slow batches are dropped and counted (a live stream has no history
/// to catch up on). StackExchange.Redis reconnects and restores the subscription by itself.
/// </summary>
public sealed partial class RedisLiveBackplane : BackgroundService, ICommittedBatchObserver
{
    private static readonly TimeSpan SubscribeRetry = TimeSpan.FromSeconds(1);

    private readonly RedisConnection _redis;
    private readonly LiveHub _hub;
    private readonly RedisMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisLiveBackplane> _logger;
    private readonly Channel<BatchWriteResult> _queue;
    private readonly RedisChannel _channel;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private int _degraded;

    public RedisLiveBackplane(RedisConnection redis, LiveHub hub, RedisMetrics metrics, Microsoft.Extensions.Options.IOptions<RedisOptions> options, TimeProvider time, ILogger<RedisLiveBackplane> logger)
    {
        _redis = redis;
        _hub = hub;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _channel = RedisChannel.Literal(redis.Prefix + "live");
        _handler = OnMessage;
        _queue = Channel.CreateBounded<BatchWriteResult>(new BoundedChannelOptions(options.Value.PublishQueueBatches)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: a full queue refuses, and the batch is counted as dropped
        });
    }

    /// <summary>This process's id in the messages it publishes.</summary>
    public string NodeId { get; } = Guid.NewGuid().ToString("N");

    public void OnCommitted(BatchWriteResult batch)
    {
        if (batch.Stored.Count > 0 && !_queue.Writer.TryWrite(batch))
        {
            _metrics.Dropped(batch.Stored.Count, "queue_full");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscribing = SubscribeAsync(stoppingToken);
        try
        {
            await foreach (var batch in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await PublishAsync(batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await subscribing;
    }

    private async Task PublishAsync(BatchWriteResult batch, CancellationToken stoppingToken)
    {
        var count = batch.Stored.Count;
        if (_redis.Usable is not { } redis)
        {
            _metrics.Dropped(count, "redis_unavailable");
            Degraded("not connected");
            return;
        }
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, Encode(batch)).WaitAsync(_redis.OperationTimeout, _time, stoppingToken);
            _metrics.Published(count);
            if (Interlocked.Exchange(ref _degraded, 0) == 1)
            {
                LogPublishingAgain(_logger);
            }
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            _redis.CallFailed();
            _metrics.Error("live_publish");
            _metrics.Dropped(count, "redis_unavailable");
            Degraded(e.Message);
        }
    }

    private void Degraded(string reason)
    {
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            LogPublishingStopped(_logger, reason);
        }
    }

    /// <summary>Subscribes once the connection is up; StackExchange.Redis restores it after every reconnect.</summary>
    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_redis.Multiplexer is { IsConnected: true } redis)
            {
                var subscriber = redis.GetSubscriber();
                try
                {
                    // A failed earlier try may have left the handler registered: remove it, so it is never there twice.
                    await subscriber.UnsubscribeAsync(_channel, _handler);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                }
                try
                {
                    await subscriber.SubscribeAsync(_channel, _handler).WaitAsync(_redis.OperationTimeout, _time, stoppingToken);
                    LogSubscribed(_logger, _channel.ToString());
                    return;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    _metrics.Error("live_subscribe");
                    LogSubscribeFailed(_logger, e.Message);
                }
            }
            try
            {
                await Task.Delay(SubscribeRetry, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (_hub.SubscriberCount == 0)
        {
            return;
        }
        try
        {
            if (Decode(message) is { Count: > 0 } events)
            {
                _metrics.Received(events.Count);
                _hub.Deliver(events);
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            _metrics.Error("live_receive");
            LogBadMessage(_logger, e);
        }
    }

    /// <summary>
    /// {"node":"...","events":[{"project":1,"issue":2,"title":"...","received":"...","event":{...}}]}; the event
    /// keeps what subscribers see and filter on, without frames, breadcrumbs and contexts, so messages stay small.
    /// </summary>
    private byte[] Encode(BatchWriteResult batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("node", NodeId);
            writer.WriteStartArray("events");
            foreach (var stored in batch.Stored)
            {
                var prepared = stored.Event;
                writer.WriteStartObject();
                writer.WriteNumber("project", prepared.ProjectId);
                writer.WriteNumber("issue", stored.IssueId);
                writer.WriteString("title", prepared.Title);
                writer.WriteString("received", prepared.ReceivedAt);
                writer.WritePropertyName("event");
                writer.WriteRawValue(EventJson.Serialize(Slim(prepared.Event)), skipInputValidation: true);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Another node's events this node has subscribers for; null for this node's own messages.</summary>
    private List<StoredEvent>? Decode(RedisValue message)
    {
        using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)message);
        var root = document.RootElement;
        if (root.GetProperty("node").GetString() == NodeId)
        {
            return null;
        }
        var events = new List<StoredEvent>();
        foreach (var item in root.GetProperty("events").EnumerateArray())
        {
            var projectId = item.GetProperty("project").GetInt64();
            if (!_hub.HasSubscribers(projectId))
            {
                continue;
            }
            var e = EventJson.Deserialize(item.GetProperty("event").GetRawText()) ?? throw new JsonException("An event in a backplane message is null.");
            var prepared = new PreparedEvent(projectId, e, Fingerprint: "", item.GetProperty("title").GetString() ?? "",
                Culprit: null, item.GetProperty("received").GetDateTimeOffset(), PayloadJson: []);
            events.Add(new StoredEvent(prepared, item.GetProperty("issue").GetInt64()));
        }
        return events;
    }

    private static FaultlineEvent Slim(FaultlineEvent e) => e with
    {
        Exceptions = e.PrimaryException is { } primary ? [primary with { Frames = [], Mechanism = null }] : [],
        Breadcrumbs = [],
        User = null,
        Sdk = null,
        Extra = null,
        Contexts = null,
        Request = null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Live stream backplane subscribed to Redis channel {Channel}")]
    private static partial void LogSubscribed(ILogger logger, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to the live stream backplane failed ({Reason}); retrying")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live events are not reaching other nodes ({Reason}): they are dropped and counted in faultline.live.backplane.dropped until Redis answers again; ingest and this node's subscribers are not affected")]
    private static partial void LogPublishingStopped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Live events reach other nodes again through Redis")]
    private static partial void LogPublishingAgain(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A live stream backplane message could not be read")]
    private static partial void LogBadMessage(ILogger logger, Exception exception);
}

using System.Diagnostics;
using System.Threading.Channels;
using Faultline.Operations;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Pipeline;

/// <summary>
/// The single batching writer: requests hand their events over and wait; the writer commits many
/// requests' events in one transaction and only then completes them (group commit). An answered
/// request is therefore durable.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private readonly Channel<WriteRequest> _queue;
    private readonly IEventStore _store;
    private readonly IEnumerable<ICommittedBatchObserver> _observers;
    private readonly FaultlineMetrics _metrics;
    private readonly ILogger<EventWriter> _logger;
    private readonly int _maxBatchEvents;
    private readonly int _concurrentBatches;

    public EventWriter(IEventStore store, IEnumerable<ICommittedBatchObserver> observers, IOptions<PipelineOptions> options, FaultlineMetrics metrics, ILogger<EventWriter> logger)
    {
        _store = store;
        _observers = observers;
        _metrics = metrics;
        _logger = logger;
        _maxBatchEvents = options.Value.MaxBatchEvents;
        _concurrentBatches = options.Value.ConcurrentBatches > 0 ? options.Value.ConcurrentBatches : Math.Max(1, store.MaxConcurrentBatches);
        _queue = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Completes once the events are committed; throws <see cref="WriterUnavailableException"/> when shutting down.</summary>
    public async Task<BatchWriteResult> WriteAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken) =>
        await await EnqueueAsync(events, cancellationToken);

    /// <summary>
    /// Queues the events (waiting while the queue is full) and returns the task that completes once they
    /// are committed: batches queued one after the other by one caller are taken in that order.
    /// </summary>
    public async Task<Task<BatchWriteResult>> EnqueueAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
    {
        var request = new WriteRequest(events);
        try
        {
            await _queue.Writer.WriteAsync(request, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new WriterUnavailableException("The server is shutting down.");
        }
        _metrics.QueueDepth(1);
        // Not cancellable once queued: the client may go away, the write still happens.
        return request.Completion.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Several loops on one queue: while one batch waits for its commit, the next one is written.
        Task.WhenAll(Enumerable.Range(0, _concurrentBatches).Select(_ => Task.Run(DrainAsync, CancellationToken.None)));

    private async Task DrainAsync()
    {
        var batch = new List<WriteRequest>();
        // Reads until the channel is completed in StopAsync, so a stop drains the queue instead of dropping it.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            var eventCount = 0;
            while (eventCount < _maxBatchEvents && _queue.Reader.TryRead(out var request))
            {
                batch.Add(request);
                eventCount += request.Events.Count;
            }
            _metrics.QueueDepth(-batch.Count);
            await CommitAsync(batch, eventCount);
        }
    }

    private async Task CommitAsync(List<WriteRequest> batch, int eventCount)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var events = batch.Count == 1 ? batch[0].Events : batch.SelectMany(r => r.Events).ToList();
            var result = await _store.WriteBatchAsync(events, CancellationToken.None);
            _metrics.BatchCommitted(eventCount, result.Stored.Count, Stopwatch.GetElapsedTime(started));
            // Observers first: once a request is answered, its events are already queued for alerts
            // and live tail (a caller that then waits for the alert evaluator to be idle sees them).
            Publish(result);
            foreach (var request in batch)
            {
                request.Completion.TrySetResult(result);
            }
        }
        catch (Exception e) when (batch.Count > 1 && !IsUnavailable(e))
        {
            // One request's bad data must not fail the others: write each request alone.
            LogBatchFailed(_logger, batch.Count, e);
            foreach (var request in batch)
            {
                await CommitAsync([request], request.Events.Count);
            }
        }
        catch (Exception e)
        {
            _metrics.StoreError();
            LogWriteFailed(_logger, eventCount, e);
            foreach (var request in batch)
            {
                request.Completion.TrySetException(new WriterUnavailableException("The event store is unavailable.", e));
            }
        }
    }

    /// <summary>The store cannot be reached: retrying request by request would only multiply the timeouts.</summary>
    private static bool IsUnavailable(Exception e) =>
        e is TimeoutException or System.Net.Sockets.SocketException or Npgsql.NpgsqlException { IsTransient: true }
        || e.InnerException is System.Net.Sockets.SocketException;

    private void Publish(BatchWriteResult result)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnCommitted(result);
            }
            catch (Exception e)
            {
                LogObserverFailed(_logger, observer.GetType().Name, e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private sealed record WriteRequest(IReadOnlyList<PreparedEvent> Events)
    {
        public TaskCompletionSource<BatchWriteResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Requests} requests failed; retrying each request alone")]
    private static partial void LogBatchFailed(ILogger logger, int requests, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Events} events failed; the request is answered with 503 and nothing is acknowledged")]
    private static partial void LogWriteFailed(ILogger logger, int events, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Observer {Observer} failed on a committed batch")]
    private static partial void LogObserverFailed(ILogger logger, string observer, Exception exception);
}

/// <summary>The events were not stored (shutting down, store down); the client should retry.</summary>
public sealed class WriterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

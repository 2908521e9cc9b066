using System.Data.Common;
using System.Threading.Channels;
using Faultline.Events;
using Faultline.Ingest;
using Faultline.Pipeline;

namespace Faultline.Docker;

/// <summary>
/// The consumer of one TCP connection's lines, or of one UDP listener's: joins stack traces, builds
/// events and submits them through <see cref="IngestPipeline"/> in batches, so one commit carries many
/// lines; the next batch is queued, in order, while the previous one commits. On TCP (<c>reliable</c>)
/// a line that was read is submitted: a rate limit or an unavailable store makes it wait (and the sender
/// with it, through TCP back-pressure), not drop. UDP drops and counts.
/// </summary>
public sealed partial class LogStream
{
    private readonly ListenerContext _context;
    private readonly bool _reliable;
    private readonly Channel<ContainerLogLine> _lines;
    private readonly TraceJoiner _joiner;
    private readonly Task _loop;

    /// <summary>
    /// Batches of this stream queued for the writer and not yet committed. Two: the next batch is joined,
    /// built and queued while the previous one commits, so one connection keeps the writer busy; beyond
    /// that the consumer waits, its line queue fills and the reader stops (back-pressure onto the sender).
    /// </summary>
    private const int MaxBatchesInFlight = 2;

    private readonly Queue<Task> _inFlight = new();

    public LogStream(ListenerContext context, bool reliable)
    {
        _context = context;
        _reliable = reliable;
        _lines = Channel.CreateBounded<ContainerLogLine>(new BoundedChannelOptions(context.Options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = reliable,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _joiner = new TraceJoiner(context.Options.Multiline, context.Ingest.MaxMessageLength);
        _loop = Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Waits while the queue is full: back-pressure onto the TCP sender.</summary>
    public ValueTask WriteAsync(ContainerLogLine line, CancellationToken cancellationToken) =>
        _lines.Writer.WriteAsync(Prepared(line), cancellationToken);

    /// <summary>False when the queue is full (UDP: the line is dropped by the caller).</summary>
    public bool TryWrite(ContainerLogLine line) => _lines.Writer.TryWrite(Prepared(line));

    /// <summary>No more lines: submits what is queued and held, then completes.</summary>
    public Task CompleteAsync()
    {
        _lines.Writer.TryComplete();
        return _loop;
    }

    private ContainerLogLine Prepared(ContainerLogLine line)
    {
        _context.Recent.Add(line);
        return line with { IsError = _context.Events.IsError(line) };
    }

    private async Task RunAsync()
    {
        var reader = _lines.Reader;
        var ready = new List<ContainerLogLine>();
        Task<bool>? waiting = null;
        var more = true;
        while (more)
        {
            waiting ??= reader.WaitToReadAsync().AsTask();
            if (_joiner.HasHeld && !waiting.IsCompleted)
            {
                var delay = _joiner.NextDue - _context.Time.GetUtcNow();
                if (delay > TimeSpan.Zero)
                {
                    await Task.WhenAny(waiting, Task.Delay(delay, _context.Time));
                }
            }
            else
            {
                await waiting;
            }
            if (waiting.IsCompleted)
            {
                more = waiting.IsCompletedSuccessfully && waiting.Result;
                waiting = null;
            }
            var now = _context.Time.GetUtcNow();
            var read = 0;
            while (read < _context.Options.MaxBatchLines && reader.TryRead(out var line))
            {
                _joiner.Add(line, now, ready);
                read++;
            }
            if (read == _context.Options.MaxBatchLines)
            {
                more = true; // the queue may hold more even if the channel was completed meanwhile
            }
            _joiner.FlushDue(now, ready, all: !more);
            if (ready.Count > 0)
            {
                while (_inFlight.Count >= MaxBatchesInFlight)
                {
                    await _inFlight.Dequeue();
                }
                _inFlight.Enqueue(await SubmitAsync(ready));
                ready = [];
            }
        }
        while (_inFlight.Count > 0)
        {
            await _inFlight.Dequeue();
        }
    }

    /// <summary>Queues the lines' events in order; returns the task of their commit (with retries), which never throws.</summary>
    private async Task<Task> SubmitAsync(List<ContainerLogLine> lines)
    {
        var receivedAt = _context.Time.GetUtcNow();
        var commits = new List<Task>();
        foreach (var group in lines.GroupBy(l => l.ProjectKey ?? _context.Listener.ProjectKey))
        {
            try
            {
                var key = group.Key is null ? null : await _context.Keys.ResolveAsync(group.Key, CancellationToken.None);
                if (key is null)
                {
                    // Never mixed into some project: a line without a known key is refused and counted.
                    _context.Metrics.Dropped(_context.Name, "unknown_source", group.Count());
                    continue;
                }
                var events = group.Select(line => _context.Events.Build(line, _context.Name, _context.Source, IsCritical(key.ProjectId, line), receivedAt)).ToList();
                if (await QueueAsync(key, events, receivedAt, attempt: 1) is { } committed)
                {
                    commits.Add(CommittedAsync(committed, key, events, receivedAt));
                }
            }
            catch (Exception e)
            {
                // A sender can never stop the receiver: count, log and go on.
                _context.Metrics.Dropped(_context.Name, "error", group.Count());
                LogSubmitFailed(_context.Logger, e, _context.Name);
            }
        }
        return commits.Count switch
        {
            0 => Task.CompletedTask,
            1 => commits[0],
            _ => Task.WhenAll(commits),
        };
    }

    /// <summary>Critical by configuration (listener, container name pattern) or marked so through the API.</summary>
    private bool IsCritical(long projectId, ContainerLogLine line) =>
        _context.Listener.Critical || _context.Events.IsCriticalContainer(line.ContainerName) || _context.Streams.IsCritical(projectId, line.StreamName);

    /// <summary>
    /// Queues the events for the writer, waiting out a rate limit or an unavailable writer when reliable (TCP);
    /// returns the task of their commit, or null when they were dropped (and counted).
    /// </summary>
    private async Task<Task?> QueueAsync(Storage.ProjectKeyRecord key, List<FaultlineEvent> events, DateTimeOffset receivedAt, int attempt)
    {
        for (; ; attempt++)
        {
            TimeSpan wait;
            string reason;
            try
            {
                return await _context.Pipeline.EnqueueAsync(key, events, receivedAt, _context.Source, CancellationToken.None);
            }
            catch (IngestRejectedException e) when (e.StatusCode == StatusCodes.Status429TooManyRequests)
            {
                (wait, reason) = (e.RetryAfter ?? TimeSpan.FromSeconds(1), "rate_limited");
            }
            catch (Exception e) when (e is WriterUnavailableException or DbException)
            {
                (wait, reason) = (TimeSpan.FromSeconds(1), "unavailable");
            }
            if (!ShouldRetry(attempt))
            {
                _context.Metrics.Dropped(_context.Name, reason, events.Count);
                return null;
            }
            await Task.Delay(wait < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : wait, _context.Time);
        }
    }

    /// <summary>
    /// Waits for the commit. A failed commit (store unavailable) queues the events again after a second:
    /// behind any batch queued meanwhile, the one case where a stream's lines can be stored out of order.
    /// </summary>
    private async Task CommittedAsync(Task committed, Storage.ProjectKeyRecord key, List<FaultlineEvent> events, DateTimeOffset receivedAt)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await committed;
                return;
            }
            catch (Exception e) when (e is WriterUnavailableException or DbException)
            {
                if (!ShouldRetry(attempt))
                {
                    _context.Metrics.Dropped(_context.Name, "unavailable", events.Count);
                    return;
                }
            }
            catch (Exception e)
            {
                _context.Metrics.Dropped(_context.Name, "error", events.Count);
                LogSubmitFailed(_context.Logger, e, _context.Name);
                return;
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _context.Time);
                if (await QueueAsync(key, events, receivedAt, attempt + 1) is not { } again)
                {
                    return;
                }
                committed = again;
            }
            catch (Exception e)
            {
                _context.Metrics.Dropped(_context.Name, "error", events.Count);
                LogSubmitFailed(_context.Logger, e, _context.Name);
                return;
            }
        }
    }

    /// <summary>UDP drops at once; TCP waits, except for a few more tries while the server stops (then the lines are lost and counted).</summary>
    private bool ShouldRetry(int attempt) => _reliable && !(_context.Stopping.IsCancellationRequested && attempt >= 3);

    [LoggerMessage(Level = LogLevel.Error, Message = "Log listener {Listener} could not submit lines")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception, string listener);
}

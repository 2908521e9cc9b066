using System.Data.Common;
using System.Threading.Channels;
using Faultline.Events;
using Faultline.Ingest;
using Faultline.Pipeline;

namespace Faultline.Docker;

/// <summary>
/// The consumer of one TCP connection's lines, or of one UDP listener's: joins stack traces, builds
/// events and submits them through <see cref="IngestPipeline"/> in batches, so one commit carries many
/// lines. On TCP (<c>reliable</c>) a line that was read is submitted: a rate limit or an unavailable
/// store makes it wait (and the sender with it, through TCP back-pressure), not drop. UDP drops and counts.
/// </summary>
public sealed partial class LogStream
{
    private readonly ListenerContext _context;
    private readonly bool _reliable;
    private readonly Channel<ContainerLogLine> _lines;
    private readonly TraceJoiner _joiner;
    private readonly Task _loop;

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
                await SubmitAsync(ready);
                ready.Clear();
            }
        }
    }

    private async Task SubmitAsync(List<ContainerLogLine> lines)
    {
        var receivedAt = _context.Time.GetUtcNow();
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
                await IngestAsync(key, events, receivedAt);
            }
            catch (Exception e)
            {
                // A sender can never stop the receiver: count, log and go on.
                _context.Metrics.Dropped(_context.Name, "error", group.Count());
                LogSubmitFailed(_context.Logger, e, _context.Name);
            }
        }
    }

    /// <summary>Critical by configuration (listener, container name pattern) or marked so through the API.</summary>
    private bool IsCritical(long projectId, ContainerLogLine line) =>
        _context.Listener.Critical || _context.Events.IsCriticalContainer(line.ContainerName) || _context.Streams.IsCritical(projectId, line.StreamName);

    private async Task IngestAsync(Storage.ProjectKeyRecord key, List<FaultlineEvent> events, DateTimeOffset receivedAt)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            string reason;
            try
            {
                await _context.Pipeline.IngestAsync(key, events, receivedAt, _context.Source, CancellationToken.None);
                return;
            }
            catch (IngestRejectedException e) when (e.StatusCode == StatusCodes.Status429TooManyRequests)
            {
                (wait, reason) = (e.RetryAfter ?? TimeSpan.FromSeconds(1), "rate_limited");
            }
            catch (Exception e) when (e is WriterUnavailableException or DbException)
            {
                (wait, reason) = (TimeSpan.FromSeconds(1), "unavailable");
            }
            // While the server stops, a few more tries, then the lines are lost (and counted).
            if (!_reliable || (_context.Stopping.IsCancellationRequested && attempt >= 3))
            {
                _context.Metrics.Dropped(_context.Name, reason, events.Count);
                return;
            }
            await Task.Delay(wait < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : wait, _context.Time);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Log listener {Listener} could not submit lines")]
    private static partial void LogSubmitFailed(ILogger logger, Exception exception, string listener);
}

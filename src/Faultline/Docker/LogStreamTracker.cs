using System.Collections.Frozen;
using Faultline.Events;
using Faultline.Pipeline;
using Faultline.Storage;

namespace Faultline.Docker;

/// <summary>
/// Keeps the project's list of log streams (containers) current: counts committed receiver and watcher
/// events per (project, container name) in memory and writes them once a second, with the issues
/// they went to (what a review releases). Also answers which streams were marked critical through the
/// API, refreshed from the store every few seconds so every node of a cluster follows.
/// </summary>
public sealed partial class LogStreamTracker(ILogStreamStore store, DockerMetrics metrics, TimeProvider time, ILogger<LogStreamTracker> logger)
    : BackgroundService, ICommittedBatchObserver
{
    /// <summary>Counts are written this often: one small transaction, not one per batch.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>How soon another node sees a stream marked critical through the API (this node sees it at once).</summary>
    public static readonly TimeSpan CriticalRefreshInterval = TimeSpan.FromSeconds(10);

    // Bounds memory whatever senders invent as names: beyond these, new streams wait for the next flush.
    private const int MaxStreamsPerFlush = 10_000;
    private const int MaxIssuesPerStream = 1000;

    private readonly Lock _lock = new();
    private Dictionary<(long ProjectId, string Name), Pending> _pending = [];
    private FrozenSet<(long ProjectId, string Name)> _critical = FrozenSet<(long, string)>.Empty;

    /// <summary>True when the stream was marked critical through the API (configuration is checked separately).</summary>
    public bool IsCritical(long projectId, string? name) => name is not null && _critical.Contains((projectId, name));

    /// <summary>Applies an API change on this node at once.</summary>
    public void SetCritical(long projectId, string name, bool critical)
    {
        lock (_lock)
        {
            var streams = _critical.ToHashSet();
            if (critical)
            {
                streams.Add((projectId, name));
            }
            else
            {
                streams.Remove((projectId, name));
            }
            _critical = streams.ToFrozenSet();
        }
    }

    public void OnCommitted(BatchWriteResult batch)
    {
        lock (_lock)
        {
            foreach (var stored in batch.Stored)
            {
                var e = stored.Event.Event;
                if (!e.Tags.TryGetValue("log_source", out var source) || source is not ("syslog" or "gelf" or "docker-engine") || e.Culprit is not { } name)
                {
                    continue;
                }
                var key = (stored.Event.ProjectId, name);
                if (!_pending.TryGetValue(key, out var pending))
                {
                    if (_pending.Count >= MaxStreamsPerFlush)
                    {
                        metrics.Dropped("streams", "overloaded");
                        continue;
                    }
                    _pending[key] = pending = new Pending();
                }
                pending.Add(stored, source);
            }
        }
    }

    /// <summary>Writes what was counted since the last flush (also called by tests).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<(long ProjectId, string Name), Pending> pending;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return;
            }
            (pending, _pending) = (_pending, []);
        }
        var activity = pending.Select(p => new LogStreamActivity(p.Key.ProjectId, p.Key.Name, p.Value.ContainerId, p.Value.Image, p.Value.Host,
            p.Value.Source, p.Value.LastSeen, p.Value.Events, p.Value.Errors, p.Value.Kept, p.Value.Issues)).ToList();
        try
        {
            await store.RecordStreamActivityAsync(activity, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Stream statistics are bookkeeping: the events themselves are stored; count and go on.
            metrics.Dropped("streams", "unavailable", activity.Count);
            LogFlushFailed(logger, e, activity.Count);
        }
    }

    public async Task RefreshCriticalAsync(CancellationToken cancellationToken)
    {
        var streams = (await store.ListCriticalStreamsAsync(cancellationToken)).ToFrozenSet();
        lock (_lock)
        {
            _critical = streams;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var refreshedAt = DateTimeOffset.MinValue;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (time.GetUtcNow() - refreshedAt >= CriticalRefreshInterval)
                {
                    try
                    {
                        await RefreshCriticalAsync(stoppingToken);
                        refreshedAt = time.GetUtcNow();
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogRefreshFailed(logger, e);
                    }
                }
                await FlushAsync(stoppingToken);
                await Task.Delay(FlushInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await FlushAsync(CancellationToken.None);
    }

    private sealed class Pending
    {
        private readonly HashSet<long> _issues = [];

        public string? ContainerId { get; private set; }
        public string? Image { get; private set; }
        public string? Host { get; private set; }
        public string? Source { get; private set; }
        public DateTimeOffset LastSeen { get; private set; } = DateTimeOffset.MinValue;
        public long Events { get; private set; }
        public long Errors { get; private set; }
        public bool Kept { get; private set; }
        public IReadOnlyCollection<long> Issues => _issues;

        public void Add(StoredEvent stored, string source)
        {
            var tags = stored.Event.Event.Tags;
            Events++;
            Errors += stored.Event.Event.Level >= EventLevel.Error ? 1 : 0;
            ContainerId = tags.GetValueOrDefault("container_id") ?? ContainerId;
            Image = tags.GetValueOrDefault("image") ?? Image;
            Host = tags.GetValueOrDefault("host") ?? Host;
            // The engine watcher reports on a stream; it is not where the stream's lines come from.
            Source = source == "docker-engine" ? Source : source;
            LastSeen = stored.Event.ReceivedAt > LastSeen ? stored.Event.ReceivedAt : LastSeen;
            Kept |= tags.GetValueOrDefault("critical") == "true";
            if (_issues.Count < MaxIssuesPerStream)
            {
                _issues.Add(stored.IssueId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the activity of {Streams} log streams")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int streams);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the critical log streams")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

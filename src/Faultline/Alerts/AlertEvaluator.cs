using System.Globalization;
using System.Threading.Channels;
using Faultline.Pipeline;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Alerts;

/// <summary>
/// Evaluates alert rules against committed batches. The writer hands each batch over without waiting
/// (a bounded queue; when full the batch is dropped and counted, ingest never waits for alerts); one
/// background loop evaluates them in commit order.
/// Sliding windows live in memory and are rebuilt from the store the first time a rule (or a rule and
/// an issue) is seen after a start; cooldowns, snoozes and history are in the store.
/// </summary>
public sealed partial class AlertEvaluator : BackgroundService, ICommittedBatchObserver
{
    private readonly Channel<BatchWriteResult> _queue;
    private readonly IAlertStore _store;
    private readonly AlertRuleCache _rules;
    private readonly AlertNotifier _notifier;
    private readonly TimeProvider _time;
    private readonly AlertMetrics _metrics;
    private readonly ILogger<AlertEvaluator> _logger;
    private readonly Dictionary<(long RuleId, long IssueId), SlidingWindow> _windows = [];
    private readonly Dictionary<long, DateTimeOffset> _ruleVersions = [];
    private long _queued;
    private long _done;

    public AlertEvaluator(IAlertStore store, AlertRuleCache rules, AlertNotifier notifier, TimeProvider time, AlertMetrics metrics,
        IOptions<AlertOptions> options, ILogger<AlertEvaluator> logger)
    {
        _store = store;
        _rules = rules;
        _notifier = notifier;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _queue = Channel.CreateBounded<BatchWriteResult>(new BoundedChannelOptions(options.Value.EvaluatorQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public void OnCommitted(BatchWriteResult batch)
    {
        if (batch.Stored.Count == 0)
        {
            return;
        }
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(batch))
        {
            Interlocked.Increment(ref _done);
            _metrics.BatchDropped();
        }
    }

    /// <summary>Completes when every batch handed over so far has been evaluated (tests and benchmarks).</summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        while (Interlocked.Read(ref _done) < Interlocked.Read(ref _queued))
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var batch in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await EvaluateAsync(batch, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogEvaluationFailed(_logger, e);
                }
                finally
                {
                    Interlocked.Increment(ref _done);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private async Task EvaluateAsync(BatchWriteResult batch, CancellationToken cancellationToken)
    {
        var rules = await _rules.GetAsync(cancellationToken);
        if (rules.Count == 0)
        {
            return;
        }
        var now = _time.GetUtcNow();
        foreach (var projectEvents in batch.Stored.GroupBy(s => s.Event.ProjectId))
        {
            if (!rules.TryGetValue(projectEvents.Key, out var projectRules))
            {
                continue;
            }
            foreach (var compiled in projectRules)
            {
                ForgetWindowsOfChangedRule(compiled.Rule);
                var matching = projectEvents.Where(compiled.Matcher.Matches).ToList();
                if (matching.Count == 0)
                {
                    continue;
                }
                await EvaluateRuleAsync(compiled, matching, batch.Issues, now, cancellationToken);
            }
        }
    }

    private async Task EvaluateRuleAsync(CompiledRule compiled, List<StoredEvent> matching, IReadOnlyList<IssueChange> issues, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rule = compiled.Rule;
        var snoozed = rule.Draft.SnoozedUntil is { } until && until > now;
        switch (rule.Draft.Type)
        {
            case AlertRuleType.Threshold:
            {
                var window = await WindowAsync(compiled, 0, now, cancellationToken);
                foreach (var stored in matching)
                {
                    window.Add(stored.Event.Event.EventId, stored.Event.ReceivedAt);
                }
                var period = TimeSpan.FromSeconds(rule.Draft.WindowSeconds ?? 60);
                if (!snoozed && window.Exceeded(now - period))
                {
                    var reason = string.Create(CultureInfo.InvariantCulture,
                        $"More than {rule.Draft.Threshold} matching events in {Describe(period)}");
                    await _notifier.FireAsync(rule, 0, matching[^1], window.CountSince(now - period), reason, false, now, cancellationToken);
                }
                break;
            }
            case AlertRuleType.IssueFrequency:
            {
                var period = TimeSpan.FromSeconds(rule.Draft.WindowSeconds ?? 60);
                foreach (var issueEvents in matching.GroupBy(s => s.IssueId))
                {
                    var window = await WindowAsync(compiled, issueEvents.Key, now, cancellationToken);
                    foreach (var stored in issueEvents)
                    {
                        window.Add(stored.Event.Event.EventId, stored.Event.ReceivedAt);
                    }
                    if (!snoozed && window.Exceeded(now - period))
                    {
                        var reason = string.Create(CultureInfo.InvariantCulture,
                            $"Issue received more than {rule.Draft.Threshold} matching events in {Describe(period)}");
                        // The count shown is the issue's total: the window only knows "more than N".
                        var issue = await _store.GetIssueAsync(issueEvents.Key, cancellationToken);
                        await _notifier.FireAsync(rule, issueEvents.Key, issueEvents.Last(), issue?.TimesSeen ?? window.CountSince(now - period), reason, false, now, cancellationToken);
                    }
                }
                break;
            }
            case AlertRuleType.NewIssue or AlertRuleType.Regression when !snoozed:
            {
                var isNew = rule.Draft.Type == AlertRuleType.NewIssue;
                foreach (var change in issues)
                {
                    if (change.ProjectId != rule.ProjectId || !(isNew ? change.Created : change.Regressed))
                    {
                        continue;
                    }
                    var trigger = matching.FirstOrDefault(s => s.IssueId == change.IssueId);
                    if (trigger is null)
                    {
                        continue;
                    }
                    var reason = isNew ? "New issue" : "Regression: a resolved issue received a new event";
                    var issue = await _store.GetIssueAsync(change.IssueId, cancellationToken);
                    await _notifier.FireAsync(rule, change.IssueId, trigger, issue?.TimesSeen ?? change.NewEvents, reason, false, now, cancellationToken);
                }
                break;
            }
        }
    }

    /// <summary>The window of a rule (issue 0) or of a rule and an issue; built from the store the first time.</summary>
    private async Task<SlidingWindow> WindowAsync(CompiledRule compiled, long issueId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = (compiled.Rule.Id, issueId);
        if (_windows.TryGetValue(key, out var window))
        {
            return window;
        }
        var draft = compiled.Rule.Draft;
        window = new SlidingWindow(draft.Threshold ?? 0);
        var since = now - TimeSpan.FromSeconds(draft.WindowSeconds ?? 60);
        var recent = await _store.ListRecentEventsAsync(compiled.Rule.ProjectId, issueId == 0 ? null : issueId, compiled.Matcher.StoreQuery,
            compiled.Matcher.MinLevel, since, window.Capacity, cancellationToken);
        foreach (var e in recent)
        {
            window.Add(e.EventId, e.ReceivedAt);
        }
        if (_windows.Count > 100_000)
        {
            PruneWindows(now);
        }
        _windows[key] = window;
        return window;
    }

    private void ForgetWindowsOfChangedRule(AlertRule rule)
    {
        if (_ruleVersions.TryGetValue(rule.Id, out var version) && version == rule.UpdatedAt)
        {
            return;
        }
        _ruleVersions[rule.Id] = rule.UpdatedAt;
        foreach (var key in _windows.Keys.Where(k => k.RuleId == rule.Id).ToList())
        {
            _windows.Remove(key);
        }
    }

    // Windows of quiet issues are rebuilt from the store when needed again.
    private void PruneWindows(DateTimeOffset now)
    {
        foreach (var (key, window) in _windows.Where(w => w.Value.Newest is not { } newest || newest < now.AddHours(-1)).ToList())
        {
            _windows.Remove(key);
        }
    }

    public static string Describe(TimeSpan period) => period.TotalSeconds switch
    {
        60 => "1 minute",
        3600 => "1 hour",
        86400 => "1 day",
        var s when s % 3600 == 0 => string.Create(CultureInfo.InvariantCulture, $"{s / 3600} hours"),
        var s when s % 60 == 0 => string.Create(CultureInfo.InvariantCulture, $"{s / 60} minutes"),
        var s => string.Create(CultureInfo.InvariantCulture, $"{s} seconds"),
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert evaluation of a committed batch failed")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception);
}

public sealed record CompiledRule(AlertRule Rule, RuleMatcher Matcher);

/// <summary>Enabled rules by project, reloaded when changed through this node or every RuleRefreshSeconds.</summary>
public sealed partial class AlertRuleCache(IAlertStore store, TimeProvider time, IOptions<AlertOptions> options, ILogger<AlertRuleCache> logger)
{
    private IReadOnlyDictionary<long, List<CompiledRule>>? _rules;
    private DateTimeOffset _loadedAt;
    private volatile bool _stale = true;

    public void Invalidate() => _stale = true;

    public async Task<IReadOnlyDictionary<long, List<CompiledRule>>> GetAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_rules is not null && !_stale && now - _loadedAt < TimeSpan.FromSeconds(options.Value.RuleRefreshSeconds))
        {
            return _rules;
        }
        _stale = false;
        var rules = await store.ListEnabledRulesAsync(cancellationToken);
        var compiled = new Dictionary<long, List<CompiledRule>>();
        foreach (var rule in rules)
        {
            try
            {
                var matcher = RuleMatcher.Create(rule.Draft, now);
                if (!compiled.TryGetValue(rule.ProjectId, out var list))
                {
                    compiled[rule.ProjectId] = list = [];
                }
                list.Add(new CompiledRule(rule, matcher));
            }
            catch (QuerySyntaxException e)
            {
                // The API validates queries; a rule saved by an older version with a query this one refuses is skipped, not fatal.
                LogBadRule(logger, rule.Id, e.Message);
            }
        }
        _rules = compiled;
        _loadedAt = now;
        return compiled;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert rule {RuleId} is skipped: {Problem}")]
    private static partial void LogBadRule(ILogger logger, long ruleId, string problem);
}

using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Faultline.Operations.SelfReport;

/// <summary>One exception to report, with where it was seen (a logger category or "unobserved_task").</summary>
public sealed record SelfReportItem(Exception Exception, string Source, string? Message, DateTimeOffset At);

/// <summary>
/// The hand-off between whoever saw an exception (the logger provider, the unobserved-task hook) and
/// <see cref="SelfReporter"/>. It depends on nothing that logs, so loggers can hold it; it rate
/// limits (token bucket over <see cref="TimeProvider"/>) and never blocks the caller.
/// </summary>
public sealed class SelfReportQueue
{
    private static readonly AsyncLocal<bool> Reporting = new();

    private readonly Channel<SelfReportItem> _channel = Channel.CreateBounded<SelfReportItem>(
        new BoundedChannelOptions(100) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly SelfReportOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private DateTimeOffset _refilledAt;
    private long _dropped;

    public SelfReportQueue(IOptions<SelfReportOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _tokens = _options.MaxReportsPerMinute;
        _refilledAt = time.GetUtcNow();
    }

    public ChannelReader<SelfReportItem> Reader => _channel.Reader;

    /// <summary>Reports refused by the rate limit or a full queue.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>True on the reporter's own async flow: anything logged there is about self-reporting and is never reported.</summary>
    public static bool InsideReport => Reporting.Value;

    /// <summary>Marks the current async flow as self-reporting until disposed.</summary>
    public static IDisposable EnterReport()
    {
        Reporting.Value = true;
        return new ReportScope();
    }

    public bool TryEnqueue(Exception exception, string source, string? message)
    {
        if (!_options.Enabled || InsideReport)
        {
            return false;
        }
        if (!TryTakeToken() || !_channel.Writer.TryWrite(new SelfReportItem(exception, source, message, _time.GetUtcNow())))
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        return true;
    }

    public void Complete() => _channel.Writer.TryComplete();

    private bool TryTakeToken()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var perSecond = _options.MaxReportsPerMinute / 60.0;
            _tokens = Math.Min(_options.MaxReportsPerMinute, _tokens + (now - _refilledAt).TotalSeconds * perSecond);
            _refilledAt = now;
            if (_tokens < 1)
            {
                return false;
            }
            _tokens -= 1;
            return true;
        }
    }

    private sealed class ReportScope : IDisposable
    {
        public void Dispose() => Reporting.Value = false;
    }
}

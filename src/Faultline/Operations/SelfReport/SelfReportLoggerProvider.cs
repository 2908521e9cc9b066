namespace Faultline.Operations.SelfReport;

/// <summary>
/// Turns errors that carry an exception into self-reports. This is how unhandled request exceptions
/// (logged by the exception handler middleware) and failed background services (logged by the host)
/// reach <see cref="SelfReporter"/> without hooks in every feature.
/// </summary>
[ProviderAlias("FaultlineSelfReport")]
public sealed class SelfReportLoggerProvider(SelfReportQueue queue) : ILoggerProvider
{
    /// <summary>The reporter's own logs: a failure while reporting is logged, never reported (no recursion).</summary>
    private static readonly string OwnNamespace = typeof(SelfReporter).Namespace!;

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(OwnNamespace, StringComparison.Ordinal) ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance : new SelfReportLogger(queue, categoryName);

    public void Dispose()
    {
    }

    private sealed class SelfReportLogger(SelfReportQueue queue, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error && !SelfReportQueue.InsideReport;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is null || !IsEnabled(logLevel))
            {
                return;
            }
            queue.TryEnqueue(exception, category, formatter(state, exception));
        }
    }
}

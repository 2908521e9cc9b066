using Microsoft.Extensions.Options;

namespace Faultline.Retention;

/// <summary>Runs <see cref="RetentionSweep"/> on a schedule; the sweep's lease makes one node work at a time.</summary>
public sealed partial class RetentionSweeper(RetentionSweep sweep, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionSweeper> logger) : BackgroundService
{
    // Let the node finish starting (migrations, partitions) before the first sweep.
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.SweepEnabled)
        {
            return;
        }
        try
        {
            await Task.Delay(FirstDelay, time, stoppingToken);
            using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
            do
            {
                try
                {
                    var report = await sweep.RunAsync(stoppingToken);
                    if (report.Ran && (report.Batches > 0 || report.ObjectsExpired > 0 || report.RestoredRemoved > 0))
                    {
                        LogSwept(logger, report.Batches, report.EventsArchived, report.ObjectsExpired, report.RestoredRemoved);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The recorded state lets the next run finish what this one started.
                    LogSweepFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention sweep: {Batches} objects, {Events} events archived; {Expired} objects expired; {Restored} restored events removed")]
    private static partial void LogSwept(ILogger logger, int batches, long events, int expired, int restored);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention sweep failed; the next run resumes from the recorded state")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

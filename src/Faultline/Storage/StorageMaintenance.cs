namespace Faultline.Storage;

/// <summary>
/// Migrates the schema at start (before Kestrel listens: hosted services start first) and creates
/// PostgreSQL's daily partitions ahead of time, checking every hour.
/// </summary>
public sealed partial class StorageMaintenance(ISchemaMigrator migrator, TimeProvider time, ILogger<StorageMaintenance> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private ITimer? _timer;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await migrator.MigrateAsync(cancellationToken);
        if (applied.Count > 0)
        {
            LogMigrated(logger, string.Join(", ", applied));
        }
        await migrator.PrepareAheadAsync(time.GetUtcNow(), cancellationToken);
        _timer = time.CreateTimer(_ => _ = PrepareAsync(), null, Interval, Interval);
    }

    private async Task PrepareAsync()
    {
        try
        {
            await migrator.PrepareAheadAsync(time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception e)
        {
            LogPrepareFailed(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migrations {Versions}")]
    private static partial void LogMigrated(ILogger logger, string versions);

    [LoggerMessage(Level = LogLevel.Error, Message = "Preparing storage ahead (partitions) failed; will retry")]
    private static partial void LogPrepareFailed(ILogger logger, Exception exception);
}

using System.Diagnostics.Metrics;
using Faultline.Accounts;
using Faultline.Pipeline;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Operations.SelfReport;

/// <summary>
/// Sends queued self-reports through the normal ingest pipeline into the internal project (the
/// configured key, or <c>Organization/Project</c>, created on first need). Every failure here is
/// logged at Warning and counted; it is never reported again, so reporting cannot recurse.
/// </summary>
public sealed partial class SelfReporter(
    SelfReportQueue queue,
    IngestPipeline pipeline,
    IAccountStore accounts,
    IOperationsStore operations,
    IServiceProvider services,
    IOptions<SelfReportOptions> options,
    TimeProvider time,
    IMeterFactory meterFactory,
    ILogger<SelfReporter> logger) : BackgroundService
{
    public const string Endpoint = "self";

    private readonly Counter<long> _reports = meterFactory.Create(FaultlineMetrics.MeterName)
        .CreateCounter<long>("faultline.self_reports", "{report}", "Faultline's own exceptions, by outcome (sent, failed, dropped).");
    private ProjectKeyRecord? _key;
    private long _sent;
    private long _failed;

    public long Sent => Interlocked.Read(ref _sent);

    public long Failed => Interlocked.Read(ref _failed);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
        // A failing background service stops the host: give what it reported a moment to be written.
        queue.Complete();
        if (ExecuteTask is { } running)
        {
            await running.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var _ = SelfReportQueue.EnterReport();
        await foreach (var item in queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                _key ??= await ResolveKeyAsync(CancellationToken.None);
                await pipeline.IngestAsync(_key, [SelfReportEvent.From(item)], time.GetUtcNow(), Endpoint, CancellationToken.None);
                Interlocked.Increment(ref _sent);
                _reports.Add(1, new KeyValuePair<string, object?>("outcome", "sent"));
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _failed);
                _reports.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
                LogReportFailed(logger, item.Exception.GetType().Name, e);
            }
        }
    }

    private async Task<ProjectKeyRecord> ResolveKeyAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.ProjectKey is { Length: > 0 } configured)
        {
            return await accounts.FindProjectKeyAsync(configured, cancellationToken) is { RevokedAt: null } key
                ? key
                : throw new InvalidOperationException("Faultline:SelfReport:ProjectKey is not an active project key.");
        }
        var organization = AccountService.Slug(settings.Organization);
        var project = AccountService.Slug(settings.Project);
        if (await operations.FindProjectKeyBySlugAsync(organization, project, cancellationToken) is { } existing)
        {
            return existing;
        }
        try
        {
            var created = await services.GetRequiredService<AccountService>().CreateProjectAsync(settings.Organization, settings.Project, ownerEmail: null, cancellationToken);
            LogProjectCreated(logger, organization, project);
            return created.Key;
        }
        catch (AccountException)
        {
            // Another node created it first.
            return await operations.FindProjectKeyBySlugAsync(organization, project, cancellationToken)
                ?? throw new InvalidOperationException($"The internal project {organization}/{project} could not be created.");
        }
    }

    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e) =>
        queue.TryEnqueue(e.Exception, "unobserved_task", "A task failed and nothing awaited it.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Self-report of a {ExceptionType} could not be stored; it is dropped (self-reporting never reports its own failures)")]
    private static partial void LogReportFailed(ILogger logger, string exceptionType, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the internal project {Organization}/{Project} for Faultline's own errors")]
    private static partial void LogProjectCreated(ILogger logger, string organization, string project);
}

using System.Diagnostics.Metrics;
using Faultline.Live;
using Faultline.Pipeline;
using Faultline.Storage;

namespace Faultline.Operations;

/// <summary>
/// Metrics read from other components rather than recorded by them: issues created and regressed
/// (from each committed batch) and the live stream's subscriber count.
/// </summary>
public sealed class FaultlineStateMetrics : ICommittedBatchObserver
{
    private readonly Counter<long> _issuesCreated;
    private readonly Counter<long> _issuesRegressed;

    public FaultlineStateMetrics(IMeterFactory meterFactory, LiveHub liveHub)
    {
        var meter = meterFactory.Create(FaultlineMetrics.MeterName);
        _issuesCreated = meter.CreateCounter<long>("faultline.issues.created", "{issue}", "Issues seen for the first time.");
        _issuesRegressed = meter.CreateCounter<long>("faultline.issues.regressed", "{issue}", "Resolved issues reopened by a new event.");
        meter.CreateObservableGauge("faultline.live.subscribers", () => liveHub.SubscriberCount, "{subscriber}", "Open live-stream WebSocket subscriptions on this node.");
    }

    public void OnCommitted(BatchWriteResult batch)
    {
        var created = batch.Issues.Count(i => i.Created);
        var regressed = batch.Issues.Count(i => i.Regressed);
        if (created > 0)
        {
            _issuesCreated.Add(created);
        }
        if (regressed > 0)
        {
            _issuesRegressed.Add(regressed);
        }
    }
}

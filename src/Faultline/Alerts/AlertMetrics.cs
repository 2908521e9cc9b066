using System.Diagnostics.Metrics;
using Faultline.Operations;

namespace Faultline.Alerts;

/// <summary>Alert and delivery instruments on the Faultline meter.</summary>
public sealed class AlertMetrics
{
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _fired;
    private readonly Counter<long> _droppedBatches;
    private readonly Histogram<double> _deliverySeconds;

    public AlertMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(FaultlineMetrics.MeterName);
        _deliveries = meter.CreateCounter<long>("faultline.alerts.deliveries", "{delivery}",
            "Outbox dispatches by channel type and outcome (delivered, retry, failed).");
        _fired = meter.CreateCounter<long>("faultline.alerts.fired", "{alert}", "Rules that fired (after cooldown), by rule type.");
        _droppedBatches = meter.CreateCounter<long>("faultline.alerts.batches.dropped", "{batch}",
            "Committed batches not evaluated because the evaluator queue was full.");
        _deliverySeconds = meter.CreateHistogram<double>("faultline.alerts.delivery.delay", "s",
            "From a notification entering the outbox to its delivery.");
    }

    public void Delivery(string channelType, string outcome) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("channel", channelType), new KeyValuePair<string, object?>("outcome", outcome));

    public void Fired(string ruleType, bool isTest) =>
        _fired.Add(1, new KeyValuePair<string, object?>("type", ruleType), new KeyValuePair<string, object?>("test", isTest));

    public void BatchDropped() => _droppedBatches.Add(1);

    public void Delivered(TimeSpan sinceQueued) => _deliverySeconds.Record(sinceQueued.TotalSeconds);
}

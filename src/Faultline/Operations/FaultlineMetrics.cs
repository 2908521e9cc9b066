using System.Diagnostics.Metrics;

namespace Faultline.Operations;

/// <summary>Faultline's own instruments on one <see cref="Meter"/>; exporters (Prometheus, OTLP) read them.</summary>
public sealed class FaultlineMetrics
{
    public const string MeterName = "Faultline";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _storeErrors;
    private readonly Histogram<double> _commitSeconds;
    private readonly Histogram<long> _batchSize;
    private readonly UpDownCounter<long> _queueDepth;
    private readonly Counter<long> _sentryItemsSkipped;

    public FaultlineMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("faultline.events.accepted", "{event}", "Events acknowledged to clients, by endpoint.");
        _rejected = meter.CreateCounter<long>("faultline.events.rejected", "{event}", "Requests or events refused, by endpoint and reason.");
        _stored = meter.CreateCounter<long>("faultline.events.stored", "{event}", "Events newly stored (duplicates excluded).");
        _storeErrors = meter.CreateCounter<long>("faultline.store.errors", "{error}", "Batches the store failed to commit.");
        // Exported from the start at 0, so rate() and alerts on it work before the first error.
        _storeErrors.Add(0);
        // Bucket advice: commits take milliseconds to seconds and batches hold 1 to MaxBatchEvents events;
        // the SDK's default buckets (0 to 10000) would put every commit in the first one.
        _commitSeconds = meter.CreateHistogram<double>("faultline.writer.commit.duration", "s", "Time to commit one batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _batchSize = meter.CreateHistogram<long>("faultline.writer.batch.size", "{event}", "Events per committed batch.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000] });
        _queueDepth = meter.CreateUpDownCounter<long>("faultline.writer.queue.depth", "{request}", "Requests waiting for the writer.");
        _sentryItemsSkipped = meter.CreateCounter<long>("faultline.sentry.items.skipped", "{item}", "Envelope items not stored (sessions, transactions, attachments...), by type.");
    }

    public void Accepted(string endpoint, int count) =>
        _accepted.Add(count, new KeyValuePair<string, object?>("endpoint", endpoint));

    public void Rejected(string endpoint, string reason, int count = 1) =>
        _rejected.Add(count, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("reason", reason));

    public void BatchCommitted(int events, int stored, TimeSpan elapsed)
    {
        _batchSize.Record(events);
        _stored.Add(stored);
        _commitSeconds.Record(elapsed.TotalSeconds);
    }

    public void StoreError() => _storeErrors.Add(1);

    public void SentryItemsSkipped(string type, int count) =>
        _sentryItemsSkipped.Add(count, new KeyValuePair<string, object?>("type", type));

    public void QueueDepth(int delta) => _queueDepth.Add(delta);
}

using System.ComponentModel.DataAnnotations;

namespace Faultline.Pipeline;

public sealed class PipelineOptions
{
    public const string Section = "Faultline:Pipeline";

    /// <summary>Requests waiting for the writer; beyond this, requests wait (back-pressure) rather than grow memory.</summary>
    [Range(1, 100_000)]
    public int QueueCapacity { get; set; } = 2_000;

    /// <summary>Events per transaction: large enough that COPY/fsync costs spread thin, small enough to bound latency.</summary>
    [Range(1, 100_000)]
    public int MaxBatchEvents { get; set; } = 2_000;

    /// <summary>Batches committed at once; 0 takes the store's own choice (SQLite 1, PostgreSQL 2).</summary>
    [Range(0, 64)]
    public int ConcurrentBatches { get; set; }
}

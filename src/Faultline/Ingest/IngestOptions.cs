using System.ComponentModel.DataAnnotations;

namespace Faultline.Ingest;

public sealed class IngestOptions
{
    public const string Section = "Faultline:Ingest";

    /// <summary>Bytes on the wire. Sentry's relay uses 20 MiB for envelopes; one request of ours is a batch of events.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxCompressedBodyBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Bytes after decompression, enforced while inflating so a decompression bomb stops early.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxDecompressedBodyBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>One event's JSON; Sentry's limit, and far above any real error report.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxEventBytes { get; set; } = 1024 * 1024;

    /// <summary>Events in one native request: bounds the work and memory one request can cause.</summary>
    [Range(1, 100_000)]
    public int MaxEventsPerRequest { get; set; } = 1_000;

    /// <summary>JSON nesting; real events nest a few levels, hostile ones thousands.</summary>
    [Range(8, 256)]
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Longer messages and exception values are truncated (Sentry keeps 8192 characters).</summary>
    [Range(64, 1_000_000)]
    public int MaxMessageLength { get; set; } = 8192;

    /// <summary>Tag keys and values longer than this are truncated (Sentry's limit).</summary>
    [Range(8, 10_000)]
    public int MaxTagLength { get; set; } = 200;

    /// <summary>Short fields (release, environment, logger, names) are truncated to this.</summary>
    [Range(8, 10_000)]
    public int MaxShortFieldLength { get; set; } = 256;

    /// <summary>Frames kept per exception: the crash site and the outermost callers, as Sentry keeps 50.</summary>
    [Range(1, 10_000)]
    public int MaxFrames { get; set; } = 50;

    /// <summary>Breadcrumbs kept per event (the most recent); Sentry SDKs default to 100.</summary>
    [Range(0, 10_000)]
    public int MaxBreadcrumbs { get; set; } = 100;

    /// <summary>Tags kept per event; more is almost always a bug in the sender.</summary>
    [Range(0, 10_000)]
    public int MaxTags { get; set; } = 100;

    public RateLimitOptions RateLimit { get; set; } = new();
}

public sealed class RateLimitOptions
{
    /// <summary>Sustained events per second per project key, unless the key sets its own.</summary>
    [Range(0.001, double.MaxValue)]
    public double EventsPerSecond { get; set; } = 1_000;

    /// <summary>Events a key may send at once after a quiet period (the token bucket's size).</summary>
    [Range(1, int.MaxValue)]
    public int Burst { get; set; } = 5_000;
}

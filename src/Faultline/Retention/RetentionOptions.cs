using System.ComponentModel.DataAnnotations;

namespace Faultline.Retention;

/// <summary>Server-wide retention defaults, the sweep schedule and the archive target (Faultline:Retention).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Faultline:Retention";

    /// <summary>Days events stay in hot (searchable) storage; 30 is the usual incident-investigation window.</summary>
    [Range(1, RetentionPolicy.MaxDays)]
    public int HotDays { get; set; } = 30;

    /// <summary>Days archived objects are kept after their events leave hot storage (30, 90, 365 or any number).</summary>
    [Range(1, RetentionPolicy.MaxDays)]
    public int ArchiveDays { get; set; } = 365;

    /// <summary>Keep events of unreviewed, unresolved issues hot however old they are.</summary>
    public bool KeepUnreviewed { get; set; } = true;

    /// <summary>The lowest issue level "keep unreviewed" applies to: fatal (critical) by default, so ordinary errors still age out.</summary>
    [RegularExpression("^(debug|info|warning|error|fatal|critical)$", ErrorMessage = "Faultline:Retention:KeepMinimumLevel must be debug, info, warning, error or fatal.")]
    public string KeepMinimumLevel { get; set; } = "fatal";

    /// <summary>How often the sweep runs; hourly is plenty for day-sized units of work.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Restored events stay searchable this long, then the sweep removes them again (their archive objects remain).</summary>
    [Range(1, RetentionPolicy.MaxDays)]
    public int RestoredDays { get; set; } = 7;

    /// <summary>
    /// Share of wall time the sweep may work (0.01 to 1): after each chunk it pauses so that work / (work + pause)
    /// stays at this share, leaving the rest of the machine to ingest. 1 turns the throttle off.
    /// </summary>
    [Range(0.01, 1.0)]
    public double SweepWorkShare { get; set; } = 0.25;

    /// <summary>
    /// Events per chunk of sweep work: the sweep pauses (see <see cref="SweepWorkShare"/>) and renews its lease between
    /// chunks, and SQLite deletes one chunk per transaction, so ingest's single writer never waits for more than a chunk.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SweepChunkEvents { get; set; } = 1000;

    /// <summary>Set false to turn the scheduled sweep off on this node (the lease already makes it run once across nodes).</summary>
    public bool SweepEnabled { get; set; } = true;

    public ArchiveOptions Archive { get; set; } = new();
}

public sealed class ArchiveOptions
{
    /// <summary>"local" (default: a folder, nothing to set up) or "s3" (AWS S3, MinIO or any S3-compatible server).</summary>
    [RegularExpression("^(local|s3)$", ErrorMessage = "Faultline:Retention:Archive:Target must be 'local' or 's3'.")]
    public string Target { get; set; } = "local";

    /// <summary>The local archive folder; relative paths are under the content root, beside the SQLite data.</summary>
    public string LocalPath { get; set; } = "data/archive";

    public S3ArchiveOptions S3 { get; set; } = new();
}

public sealed class S3ArchiveOptions
{
    /// <summary>Endpoint URL for MinIO or other S3-compatible servers; empty for AWS S3 itself (the region picks the endpoint).</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    /// <summary>Key prefix inside the bucket, so one bucket can hold several installations.</summary>
    public string Prefix { get; set; } = "faultline/";

    /// <summary>Path-style URLs (http://host/bucket/key): MinIO and most self-hosted servers need them.</summary>
    public bool ForcePathStyle { get; set; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>Static credentials; when empty the default AWS chain is used (environment, profile, instance role).</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }
}

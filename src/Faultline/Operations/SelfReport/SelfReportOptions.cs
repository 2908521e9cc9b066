using System.ComponentModel.DataAnnotations;

namespace Faultline.Operations.SelfReport;

/// <summary>Faultline reporting its own unhandled exceptions into a project of its own.</summary>
public sealed class SelfReportOptions
{
    public const string Section = "Faultline:SelfReport";

    /// <summary>On by default: an error tracker should see its own errors without extra set-up.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Public key of an existing project to report into; when empty the internal project below is used, created on first need.</summary>
    public string? ProjectKey { get; set; }

    /// <summary>Organization of the internal project; every server admin is its owner, also one created after it.</summary>
    [Required]
    public string Organization { get; set; } = "faultline-internal";

    [Required]
    public string Project { get; set; } = "faultline";

    /// <summary>A failure storm (store down, a bug on every request) must not become an ingest storm: at most this many reports a minute, bursts included.</summary>
    [Range(1, 10_000)]
    public int MaxReportsPerMinute { get; set; } = 10;
}

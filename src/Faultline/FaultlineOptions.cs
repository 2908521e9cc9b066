using System.ComponentModel.DataAnnotations;

namespace Faultline;

public sealed class FaultlineOptions
{
    public const string Section = "Faultline";

    /// <summary>The address clients reach this server at; DSNs and dashboard links are built from it.</summary>
    [Required]
    [Url]
    public string PublicUrl { get; set; } = "http://localhost:8100";
}

using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Faultline.Operations;

/// <summary>Who may read <c>/metrics</c>. Both empty (the default): anyone who can reach the port.</summary>
public sealed class MetricsOptions : IValidatableObject
{
    public const string Section = "Faultline:Metrics";

    /// <summary>CIDR ranges (e.g. 10.0.0.0/8, 127.0.0.1/32) the scraper connects from; empty allows any address.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>When set, scrapes must send <c>Authorization: Bearer TOKEN</c> (Prometheus: <c>authorization.credentials</c>).</summary>
    public string? BearerToken { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in AllowedNetworks)
        {
            if (!IPNetwork.TryParse(network, out _))
            {
                yield return new ValidationResult($"Faultline:Metrics:AllowedNetworks: '{network}' is not a CIDR range such as 10.0.0.0/8.");
            }
        }
        if (BearerToken is { Length: > 0 and < 16 })
        {
            yield return new ValidationResult("Faultline:Metrics:BearerToken must be at least 16 characters (openssl rand -hex 24).");
        }
    }

    internal IReadOnlyList<IPNetwork> ParsedNetworks() => [.. AllowedNetworks.Select(n => IPNetwork.Parse(n))];
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Faultline.Operations;

/// <summary>
/// The gate in front of the Prometheus scrape endpoint: the client address must be in an allowed
/// network and the bearer token must match, each only when configured. Behind a reverse proxy the
/// address is the proxy's, so prefer the token there.
/// </summary>
public sealed class MetricsAccess(RequestDelegate next, IOptions<MetricsOptions> options, IProblemDetailsService problems)
{
    private readonly IReadOnlyList<System.Net.IPNetwork> _networks = options.Value.ParsedNetworks();
    private readonly byte[]? _token = options.Value.BearerToken is { Length: > 0 } token ? Encoding.UTF8.GetBytes(token) : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (_networks.Count > 0 && !FromAllowedNetwork(context))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Metrics are restricted", "This address is not in Faultline:Metrics:AllowedNetworks.");
            return;
        }
        if (_token is not null && !HasToken(context))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "Metrics need a token", "Send Authorization: Bearer with the token configured in Faultline:Metrics:BearerToken.");
            return;
        }
        await next(context);
    }

    private bool FromAllowedNetwork(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return _networks.Any(n => n.Contains(address));
    }

    private bool HasToken(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var sent = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(sent, _token);
    }

    private async Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

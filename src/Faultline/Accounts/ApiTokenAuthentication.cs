using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Faultline.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Faultline.Accounts;

/// <summary>Authenticates "Authorization: Bearer flt_..." by looking up the token's hash.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IAccountStore store,
    ApiTokenUsage usage)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var token = header[7..].Trim();
        if (!token.StartsWith(Secrets.TokenPrefix, StringComparison.Ordinal) || token.Length > 200)
        {
            return AuthenticateResult.Fail("The bearer token is not a Faultline API token.");
        }
        var owner = await store.FindApiTokenAsync(Secrets.HashToken(token), Context.RequestAborted);
        if (owner is null)
        {
            return AuthenticateResult.Fail("The API token is unknown or revoked.");
        }
        await usage.RecordAsync(owner.TokenId, Context.RequestAborted);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, owner.UserId.ToString(CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Email, owner.Email),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem("Send an API token as Authorization: Bearer flt_... (create one with `faultline create-token`).",
            statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized").ExecuteAsync(Context);
    }
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The signed-in user's id; endpoints behind RequireAuthorization always have one.</summary>
    public static long UserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No user id claim."), CultureInfo.InvariantCulture);
}

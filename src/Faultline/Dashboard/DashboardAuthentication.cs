using System.Globalization;
using System.Security.Claims;
using Faultline.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Faultline.Storage;

namespace Faultline.Dashboard;

/// <summary>
/// Cookie sign-in for the dashboard. The default scheme is a selector: paths under /api use the API
/// token scheme, so a dashboard cookie never authorizes a state-changing REST call (those have no
/// antiforgery token); everything else uses the cookie. /api/v1/live accepts both, with a same-origin check.
/// </summary>
public static class DashboardAuthentication
{
    public const string CookieScheme = "DashboardCookie";
    public const string SelectorScheme = "Faultline";

    /// <summary>Policy for endpoints that accept an API token or the dashboard cookie.</summary>
    public const string TokenOrCookiePolicy = "TokenOrCookie";

    /// <summary>Claim holding the user's session version when the cookie was issued.</summary>
    public const string SessionVersionClaim = "faultline:session_version";

    public static void AddDashboardAuthentication(this IHostApplicationBuilder builder)
    {
        var session = TimeSpan.FromHours(builder.Configuration.GetValue(DashboardOptions.Section + ":SessionHours", 12.0));
        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = SelectorScheme;
                options.DefaultChallengeScheme = SelectorScheme;
            })
            .AddPolicyScheme(SelectorScheme, "API token for /api, cookie elsewhere", options =>
                options.ForwardDefaultSelector = context =>
                    context.Request.Path.StartsWithSegments("/api") ? ApiTokenAuthenticationHandler.SchemeName : CookieScheme)
            .AddCookie(CookieScheme, options =>
            {
                options.Cookie.Name = "faultline.session";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = session;
                options.SlidingExpiration = true;
                options.LoginPath = "/login";
                options.LogoutPath = "/logout";
                options.AccessDeniedPath = "/login";
                options.Events.OnValidatePrincipal = ValidateSessionVersionAsync;
            });
        builder.Services.AddAuthorizationBuilder().AddPolicy(TokenOrCookiePolicy, policy =>
            policy.AddAuthenticationSchemes(ApiTokenAuthenticationHandler.SchemeName, CookieScheme).RequireAuthenticatedUser());
    }

    /// <summary>The principal stored in the session cookie: the user's id, email and session version.</summary>
    public static ClaimsPrincipal Principal(UserRecord user, int sessionVersion) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(CultureInfo.InvariantCulture)),
        new Claim(ClaimTypes.Email, user.Email),
        new Claim(ClaimTypes.Role, user.IsAdmin ? "admin" : "member"),
        new Claim(SessionVersionClaim, sessionVersion.ToString(CultureInfo.InvariantCulture)),
    ], CookieScheme));

    /// <summary>Issues the session cookie with the user's current session version (also after a password change, to keep this session).</summary>
    public static async Task SignInAsync(HttpContext context, UserRecord user)
    {
        var version = await context.RequestServices.GetRequiredService<IDashboardStore>().GetSessionVersionAsync(user.Id, context.RequestAborted) ?? 0;
        await context.SignInAsync(CookieScheme, Principal(user, version), new AuthenticationProperties { IsPersistent = true });
    }

    /// <summary>
    /// Every request with a session cookie checks the user's session version (one lookup by primary key):
    /// a password change bumps it and so ends the user's other sessions at their next request; a
    /// deleted user's sessions end too. Cookies issued before versions existed count as version 0.
    /// </summary>
    private static async Task ValidateSessionVersionAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (principal is null || !long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), CultureInfo.InvariantCulture, out var userId))
        {
            context.RejectPrincipal();
            return;
        }
        var claimed = int.TryParse(principal.FindFirstValue(SessionVersionClaim), CultureInfo.InvariantCulture, out var v) ? v : 0;
        var current = await context.HttpContext.RequestServices.GetRequiredService<IDashboardStore>()
            .GetSessionVersionAsync(userId, context.HttpContext.RequestAborted);
        if (current != claimed)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }

    /// <summary>
    /// A browser sends cookies with WebSocket handshakes from any page, so a cookie-authenticated
    /// upgrade must come from this server's own origin (a bearer token needs no such check).
    /// </summary>
    public static bool IsCrossSiteCookieRequest(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }
        return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || !string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A return URL is followed only when it stays on this site ("/x", not "//evil" or "http://...").</summary>
    public static string LocalUrl(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) ? url : "/";
}

using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.StaticWebAssets;

namespace Faultline.Dashboard;

/// <summary>
/// The Blazor web app in this host: static server rendering for pages that show data, interactive
/// server rendering where a page updates live. Pages from every feature folder are routed.
/// </summary>
public static class DashboardExtensions
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DashboardOptions>()
            .Bind(builder.Configuration.GetSection(DashboardOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (builder.Environment is IWebHostEnvironment web)
        {
            // A build run from its output folder (tests, `dotnet faultline.dll`) finds wwwroot through the
            // build's static web assets manifest; a published app has the files and no manifest (no-op).
            StaticWebAssetsLoader.UseStaticWebAssets(web, builder.Configuration);
        }
        builder.AddDashboardAuthentication();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddAntiforgery(options => options.Cookie.Name = "faultline.antiforgery");
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddScoped<DashboardState>();
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        // Sign-out is a POST with an antiforgery token: a cross-site form must not sign anyone out.
        app.MapPost("/logout", async (HttpContext context, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
                    detail: "Sign-out needs the form's antiforgery token.");
            }
            await context.SignOutAsync(DashboardAuthentication.CookieScheme);
            return Results.LocalRedirect("/login");
        }).ExcludeFromDescription();
        return app;
    }
}

using Microsoft.AspNetCore.Authentication;

namespace Faultline.Accounts;

public static class AccountsExtensions
{
    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FaultlineOptions>()
            .Bind(builder.Configuration.GetSection(FaultlineOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton<OrganizationService>();
        builder.Services.AddSingleton<AccountSettings>();
        builder.Services.AddSingleton<ApiTokenUsage>();
        builder.Services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        return builder;
    }
}

using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Dashboard;

/// <summary>A tenant (as <see cref="FaultlineApp.CreateTenantAsync"/>) whose owner's email the test knows, to sign in with.</summary>
public static class DashboardTenant
{
    public const string Password = "a long enough password";

    public static Task<(TestTenant Tenant, string Email)> CreateAsync(FaultlineApp app, string organization) =>
        CreateAsync(app.Accounts, organization, (key, projectId) => $"http://{key}@localhost:8100/{projectId}");

    public static Task<(TestTenant Tenant, string Email)> CreateAsync(KestrelFaultline server, string organization) =>
        CreateAsync(server.Services.GetRequiredService<Faultline.Accounts.AccountService>(), organization,
            (key, projectId) => $"http://{key}@{server.Address.Host}:{server.Address.Port}/{projectId}");

    private static async Task<(TestTenant, string)> CreateAsync(Faultline.Accounts.AccountService accounts, string organization, Func<string, long, string> dsn)
    {
        var email = $"owner-{Guid.NewGuid():N}@{organization}.test";
        await accounts.CreateUserAsync(email, Password, isAdmin: false, default);
        var created = await accounts.CreateProjectAsync(organization + "-" + Guid.NewGuid().ToString("N")[..6], "web", email, default);
        var token = await accounts.CreateApiTokenAsync(email, "tests", default);
        return (new TestTenant(created.Project.Id, created.Key.PublicKey, token, dsn(created.Key.PublicKey, created.Project.Id)), email);
    }
}

using Faultline.Accounts;
using Faultline.Storage;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Faultline.Dashboard;

/// <summary>
/// Base for dashboard pages (any feature folder): the signed-in user's id and project lookups that
/// answer 404 when the project is not in one of the user's organizations.
/// </summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    [Inject]
    protected NavigationManager Navigation { get; set; } = null!;

    [Inject]
    protected IAccountStore AccountStore { get; set; } = null!;

    [Inject]
    protected DashboardState Dashboard { get; set; } = null!;

    [Inject]
    protected TimeProvider Time { get; set; } = null!;

    /// <summary>The signed-in user's id (pages carry [Authorize], so there is one).</summary>
    protected async Task<long> UserIdAsync() =>
        (await (AuthenticationState ?? throw new InvalidOperationException("No authentication state."))).User.UserId();

    /// <summary>The project when the user may see it; otherwise null, and the response becomes a 404.</summary>
    protected async Task<ProjectRecord?> ProjectOrNotFoundAsync(long projectId)
    {
        var project = await AccountStore.GetProjectForUserAsync(await UserIdAsync(), projectId, CancellationToken.None);
        if (project is null)
        {
            Navigation.NotFound();
            return null;
        }
        Dashboard.SetProject(project);
        return project;
    }

    /// <summary>Answers 404 (for an issue or event the user may not see).</summary>
    protected void NotFound() => Navigation.NotFound();
}

using Faultline.Storage;

namespace Faultline.Dashboard;

/// <summary>
/// Per-request state shared by the layout and the page: the project the page is about, so the
/// navigation links point into it even on pages whose URL has no project id (/issues/{id}).
/// </summary>
public sealed class DashboardState
{
    public ProjectRecord? Project { get; private set; }

    public event Action? Changed;

    public void SetProject(ProjectRecord project)
    {
        Project = project;
        Changed?.Invoke();
    }
}

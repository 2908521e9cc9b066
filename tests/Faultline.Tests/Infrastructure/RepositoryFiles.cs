namespace Faultline.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (snapshots that live next to the code).</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Faultline.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No Faultline.slnx above {AppContext.BaseDirectory}.");
    }
}

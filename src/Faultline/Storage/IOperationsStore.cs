namespace Faultline.Storage;

/// <summary>What Operations needs from the store: the internal project that Faultline reports its own errors into.</summary>
public interface IOperationsStore
{
    /// <summary>The oldest unrevoked key of the project <paramref name="projectSlug"/> in organization <paramref name="organizationSlug"/>.</summary>
    Task<ProjectKeyRecord?> FindProjectKeyBySlugAsync(string organizationSlug, string projectSlug, CancellationToken cancellationToken);
}

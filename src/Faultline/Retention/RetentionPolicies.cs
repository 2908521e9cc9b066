using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Retention;

/// <summary>Resolves a project's policy: its own, else its organization's, else the server's (configuration).</summary>
public sealed class RetentionPolicies(IRetentionStore store, IOptions<RetentionOptions> options)
{
    public RetentionPolicy Server => RetentionPolicy.From(options.Value);

    public async Task<EffectivePolicy> GetAsync(ProjectRecord project, CancellationToken cancellationToken)
    {
        var own = await store.GetRetentionPolicyAsync(RetentionScope.Project, project.Id, cancellationToken);
        var organization = await store.GetRetentionPolicyAsync(RetentionScope.Organization, project.OrganizationId, cancellationToken);
        var server = Server;
        return own is not null ? new EffectivePolicy(own, "project", own, organization, server)
            : organization is not null ? new EffectivePolicy(organization, "organization", own, organization, server)
            : new EffectivePolicy(server, "server", own, organization, server);
    }
}

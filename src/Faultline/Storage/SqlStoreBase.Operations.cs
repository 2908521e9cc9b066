namespace Faultline.Storage;

public abstract partial class SqlStoreBase
{
    public async Task<ProjectKeyRecord?> FindProjectKeyBySlugAsync(string organizationSlug, string projectSlug, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var keys = await ReadKeysAsync(connection,
            "JOIN organizations o ON o.id = p.organization_id WHERE o.slug = @o AND p.slug = @s AND k.revoked_at IS NULL ORDER BY k.id",
            cancellationToken, ("@o", organizationSlug), ("@s", projectSlug));
        return keys.Count == 0 ? null : keys[0];
    }
}

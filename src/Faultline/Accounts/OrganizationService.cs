using Faultline.Ingest;
using Faultline.Storage;

namespace Faultline.Accounts;

/// <summary>A project seen through the caller's membership of its organization.</summary>
public sealed record ProjectAccess(ProjectRecord Project, string Role)
{
    public bool CanManage => Roles.CanManage(Role);
}

/// <summary>
/// Projects, keys and members, always on behalf of a signed-in user: an organization the user is
/// not a member of does not exist for them (NotFound); a member who may not manage gets Forbidden.
/// Used by the HTTP API and the settings pages alike.
/// </summary>
public sealed class OrganizationService(
    IAccountStore accounts,
    IAccountAdminStore store,
    AccountService accountService,
    TimeProvider time,
    ProjectKeyResolver? keyCache = null,
    ProjectRateLimiter? rateLimiter = null)
{
    /// <summary>The bounds a key's own rate limit may take (events per second).</summary>
    public const double MinRateLimit = 0.001;
    public const double MaxRateLimit = 1_000_000;

    public Task<IReadOnlyList<MembershipRecord>> ListOrganizationsAsync(long userId, CancellationToken cancellationToken) =>
        store.ListMembershipsAsync(userId, cancellationToken);

    public async Task<MembershipRecord> GetOrganizationAsync(long userId, long organizationId, CancellationToken cancellationToken) =>
        await store.GetMembershipAsync(userId, organizationId, cancellationToken)
        ?? throw new AccountException($"Organization {organizationId} was not found.", AccountError.NotFound);

    public async Task<ProjectAccess> GetProjectAsync(long userId, long projectId, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(userId, projectId, cancellationToken)
            ?? throw new AccountException($"Project {projectId} was not found.", AccountError.NotFound);
        var membership = await GetOrganizationAsync(userId, project.OrganizationId, cancellationToken);
        return new ProjectAccess(project, membership.Role);
    }

    public async Task<CreatedProject> CreateProjectAsync(long userId, long organizationId, string? name, CancellationToken cancellationToken)
    {
        var membership = await ManagedOrganizationAsync(userId, organizationId, cancellationToken);
        name = name?.Trim() ?? string.Empty;
        var slug = AccountService.Slug(name);
        if (slug.Length == 0 || name.Length > 100)
        {
            throw new AccountException("name must have 1 to 100 characters, at least one of them a letter or digit.");
        }
        var now = time.GetUtcNow();
        ProjectRecord project;
        try
        {
            project = await accounts.CreateProjectAsync(organizationId, name, slug, now, cancellationToken);
        }
        catch (Exception e) when (AccountService.IsUniqueViolation(e))
        {
            throw new AccountException($"Organization {membership.Organization.Slug} already has a project named {slug}.", AccountError.Conflict);
        }
        var key = await accounts.CreateProjectKeyAsync(project.Id, Secrets.NewPublicKey(), now, cancellationToken);
        return new CreatedProject(membership.Organization, project, key, accountService.Dsn(key.PublicKey, project.Id));
    }

    public async Task<IReadOnlyList<ProjectKeyRecord>> ListKeysAsync(long userId, long projectId, CancellationToken cancellationToken)
    {
        await GetProjectAsync(userId, projectId, cancellationToken);
        return await accounts.ListProjectKeysAsync(projectId, cancellationToken);
    }

    public async Task<ProjectKeyRecord> CreateKeyAsync(long userId, long projectId, CancellationToken cancellationToken)
    {
        await ManagedProjectAsync(userId, projectId, cancellationToken);
        return await accounts.CreateProjectKeyAsync(projectId, Secrets.NewPublicKey(), time.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Revokes the key. This node forgets it at once; other nodes keep their cached copy for up to
    /// <see cref="ProjectKeyResolver.CacheFor"/>.
    /// </summary>
    public async Task<ProjectKeyRecord> RevokeKeyAsync(long userId, long projectId, long keyId, CancellationToken cancellationToken)
    {
        await ManagedProjectAsync(userId, projectId, cancellationToken);
        var key = await store.RevokeProjectKeyAsync(projectId, keyId, time.GetUtcNow(), cancellationToken)
            ?? throw KeyNotFound(projectId, keyId);
        keyCache?.Forget(key.PublicKey);
        rateLimiter?.Forget(key.Id);
        return key;
    }

    /// <summary>Sets the key's own limit (null: the server default); this node applies it to the next request.</summary>
    public async Task<ProjectKeyRecord> SetKeyRateLimitAsync(long userId, long projectId, long keyId, double? eventsPerSecond, CancellationToken cancellationToken)
    {
        await ManagedProjectAsync(userId, projectId, cancellationToken);
        if (eventsPerSecond is { } rate && !(rate >= MinRateLimit && rate <= MaxRateLimit))
        {
            throw new AccountException($"eventsPerSecond must be between {MinRateLimit} and {MaxRateLimit}, or null for the server default.");
        }
        var key = await store.SetProjectKeyRateLimitAsync(projectId, keyId, eventsPerSecond, cancellationToken)
            ?? throw KeyNotFound(projectId, keyId);
        // The limiter rebuilds a key's bucket when the cached key shows a different rate.
        keyCache?.Forget(key.PublicKey);
        return key;
    }

    public async Task<IReadOnlyList<MemberRecord>> ListMembersAsync(long userId, long organizationId, CancellationToken cancellationToken)
    {
        await GetOrganizationAsync(userId, organizationId, cancellationToken);
        return await store.ListMembersAsync(organizationId, cancellationToken);
    }

    public async Task<MemberRecord> AddMemberAsync(long userId, long organizationId, string? email, string? role, CancellationToken cancellationToken)
    {
        var caller = await ManagedOrganizationAsync(userId, organizationId, cancellationToken);
        var newRole = Roles.Parse(role ?? Roles.Member);
        RequireOwnerFor(caller, newRole);
        email = AccountService.NormalizeEmail(email ?? string.Empty);
        if (!AccountService.IsEmail(email))
        {
            throw new AccountException($"'{email}' is not an email address.");
        }
        var user = await accounts.FindUserByEmailAsync(email, cancellationToken)
            ?? throw new AccountException($"No Faultline user has email {email}; create the user first (faultline create-user).");
        if (!await store.InsertMemberAsync(organizationId, user.Id, newRole, cancellationToken))
        {
            throw new AccountException($"{email} already is a member of {caller.Organization.Slug}.", AccountError.Conflict);
        }
        return new MemberRecord(user.Id, user.Email, newRole);
    }

    public async Task<MemberRecord> SetMemberRoleAsync(long userId, long organizationId, long memberId, string? role, CancellationToken cancellationToken)
    {
        var caller = await ManagedOrganizationAsync(userId, organizationId, cancellationToken);
        var newRole = Roles.Parse(role);
        var member = await MemberAsync(organizationId, memberId, cancellationToken);
        RequireOwnerFor(caller, member.Role);
        RequireOwnerFor(caller, newRole);
        Check(await store.SetMemberRoleAsync(organizationId, memberId, newRole, cancellationToken), caller, memberId);
        return member with { Role = newRole };
    }

    /// <summary>Removes a member; any member may also remove themselves (leave), except the last owner.</summary>
    public async Task RemoveMemberAsync(long userId, long organizationId, long memberId, CancellationToken cancellationToken)
    {
        var caller = memberId == userId
            ? await GetOrganizationAsync(userId, organizationId, cancellationToken)
            : await ManagedOrganizationAsync(userId, organizationId, cancellationToken);
        var member = await MemberAsync(organizationId, memberId, cancellationToken);
        if (memberId != userId)
        {
            RequireOwnerFor(caller, member.Role);
        }
        Check(await store.RemoveMemberAsync(organizationId, memberId, cancellationToken), caller, memberId);
    }

    private async Task<MembershipRecord> ManagedOrganizationAsync(long userId, long organizationId, CancellationToken cancellationToken)
    {
        var membership = await GetOrganizationAsync(userId, organizationId, cancellationToken);
        if (!Roles.CanManage(membership.Role))
        {
            throw new AccountException($"Only owners and admins of {membership.Organization.Slug} can do this; you are a {membership.Role}.", AccountError.Forbidden);
        }
        return membership;
    }

    private async Task ManagedProjectAsync(long userId, long projectId, CancellationToken cancellationToken)
    {
        var access = await GetProjectAsync(userId, projectId, cancellationToken);
        if (!access.CanManage)
        {
            throw new AccountException($"Only owners and admins of {access.Project.OrganizationSlug} can change project keys; you are a {access.Role}.", AccountError.Forbidden);
        }
    }

    private async Task<MemberRecord> MemberAsync(long organizationId, long memberId, CancellationToken cancellationToken) =>
        (await store.ListMembersAsync(organizationId, cancellationToken)).FirstOrDefault(m => m.UserId == memberId)
        ?? throw new AccountException($"User {memberId} is not a member of this organization.", AccountError.NotFound);

    private static void RequireOwnerFor(MembershipRecord caller, string role)
    {
        if (role == Roles.Owner && caller.Role != Roles.Owner)
        {
            throw new AccountException("Only owners can grant, change or remove the owner role.", AccountError.Forbidden);
        }
    }

    private static void Check(MemberChange change, MembershipRecord caller, long memberId)
    {
        switch (change)
        {
            case MemberChange.NotMember:
                throw new AccountException($"User {memberId} is not a member of {caller.Organization.Slug}.", AccountError.NotFound);
            case MemberChange.LastOwner:
                throw new AccountException($"User {memberId} is the last owner of {caller.Organization.Slug}; make another member owner first.", AccountError.Conflict);
        }
    }

    private static AccountException KeyNotFound(long projectId, long keyId) =>
        new($"Project {projectId} has no key {keyId}.", AccountError.NotFound);
}

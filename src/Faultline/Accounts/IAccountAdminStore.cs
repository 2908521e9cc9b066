using Faultline.Storage;

namespace Faultline.Accounts;

/// <summary>A user's organization and role in it.</summary>
public sealed record MembershipRecord(OrganizationRecord Organization, string Role);

/// <summary>A member of an organization as the members list shows it.</summary>
public sealed record MemberRecord(long UserId, string Email, string Role);

/// <summary>An API token as its owner sees it: never the token or its hash.</summary>
public sealed record ApiTokenRecord(long Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

public enum MemberChange
{
    Done,
    NotMember,
    LastOwner,
}

/// <summary>
/// What account management needs beyond <see cref="IAccountStore"/>: memberships and roles, key
/// revocation and rate limits, passwords and API tokens. Callers check the caller's role first.
/// </summary>
public interface IAccountAdminStore
{
    Task<UserRecord?> GetUserAsync(long userId, CancellationToken cancellationToken);
    /// <summary>Sets the password hash and bumps the user's session version, which ends the user's dashboard sessions.</summary>
    Task UpdatePasswordHashAsync(long userId, string passwordHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<MembershipRecord>> ListMembershipsAsync(long userId, CancellationToken cancellationToken);

    /// <summary>The user's membership of the organization, or null when the user is not a member.</summary>
    Task<MembershipRecord?> GetMembershipAsync(long userId, long organizationId, CancellationToken cancellationToken);

    Task<IReadOnlyList<MemberRecord>> ListMembersAsync(long organizationId, CancellationToken cancellationToken);

    /// <returns>False when the user already is a member (the role is left as it was).</returns>
    Task<bool> InsertMemberAsync(long organizationId, long userId, string role, CancellationToken cancellationToken);

    /// <summary>Changes a member's role; refuses (atomically) to demote the organization's last owner.</summary>
    Task<MemberChange> SetMemberRoleAsync(long organizationId, long userId, string role, CancellationToken cancellationToken);

    /// <summary>Removes a member; refuses (atomically) to remove the organization's last owner.</summary>
    Task<MemberChange> RemoveMemberAsync(long organizationId, long userId, CancellationToken cancellationToken);

    Task<ProjectKeyRecord?> GetProjectKeyAsync(long projectId, long keyId, CancellationToken cancellationToken);

    /// <summary>Sets revoked_at unless already set; returns the key, or null when the project has no such key.</summary>
    Task<ProjectKeyRecord?> RevokeProjectKeyAsync(long projectId, long keyId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets the key's own limit in events per second; null means the server default.</summary>
    Task<ProjectKeyRecord?> SetProjectKeyRateLimitAsync(long projectId, long keyId, double? eventsPerSecond, CancellationToken cancellationToken);

    /// <summary>The user's tokens that are not revoked, oldest first.</summary>
    Task<IReadOnlyList<ApiTokenRecord>> ListApiTokensAsync(long userId, CancellationToken cancellationToken);

    /// <returns>False when the user has no such active token.</returns>
    Task<bool> RevokeApiTokenAsync(long userId, long tokenId, DateTimeOffset now, CancellationToken cancellationToken);

    Task TouchApiTokenAsync(long tokenId, DateTimeOffset now, CancellationToken cancellationToken);
}

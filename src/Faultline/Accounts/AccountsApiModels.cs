using Faultline.Storage;

namespace Faultline.Accounts;

public sealed record OrganizationResponse(long Id, string Slug, string Name, string Role, DateTimeOffset CreatedAt)
{
    public static OrganizationResponse From(MembershipRecord m) => new(m.Organization.Id, m.Organization.Slug, m.Organization.Name, m.Role, m.Organization.CreatedAt);
}

public sealed record CreateProjectRequest(string? Name);

public sealed record CreatedProjectResponse(long Id, long OrganizationId, string Organization, string Name, string Slug, DateTimeOffset CreatedAt, KeyResponse Key);

/// <summary>A project key as the settings show it. <see cref="RateLimitPerSecond"/> null means the server default.</summary>
public sealed record KeyResponse(long Id, string PublicKey, string Dsn, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, double? RateLimitPerSecond)
{
    public static KeyResponse From(ProjectKeyRecord k, AccountService accounts) =>
        new(k.Id, k.PublicKey, accounts.Dsn(k.PublicKey, k.ProjectId), k.CreatedAt, k.RevokedAt, k.RateLimitPerSecond);
}

/// <summary>PUT body: events per second for this key, or null for the server default.</summary>
public sealed record RateLimitRequest(double? EventsPerSecond);

public sealed record MemberResponse(long UserId, string Email, string Role)
{
    public static MemberResponse From(MemberRecord m) => new(m.UserId, m.Email, m.Role);
}

/// <summary>POST body: an existing user's email and a role (default member).</summary>
public sealed record AddMemberRequest(string? Email, string? Role);

public sealed record RoleRequest(string? Role);

public sealed record AccountResponse(long Id, string Email, bool IsAdmin, DateTimeOffset CreatedAt, IReadOnlyList<OrganizationResponse> Organizations);

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

/// <summary>An API token: never the token itself, nor its hash.</summary>
public sealed record ApiTokenResponse(long Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public static ApiTokenResponse From(ApiTokenRecord t) => new(t.Id, t.Name, t.CreatedAt, t.LastUsedAt);
}

public sealed record CreateTokenRequest(string? Name);

/// <summary>The answer to creating a token: the only time <see cref="Token"/> is shown.</summary>
public sealed record CreatedTokenResponse(long Id, string Name, DateTimeOffset CreatedAt, string Token);

using System.Text.RegularExpressions;
using Faultline.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Faultline.Accounts;

public sealed record CreatedProject(OrganizationRecord Organization, ProjectRecord Project, ProjectKeyRecord Key, string Dsn);

/// <summary>Account operations shared by the command line and (later) the dashboard.</summary>
public sealed partial class AccountService(
    IAccountStore store,
    TimeProvider time,
    IOptions<FaultlineOptions> options,
    IOptions<Operations.SelfReport.SelfReportOptions> selfReport)
{
    private static readonly PasswordHasher<UserRecord> Hasher = new();
    public const int MinPasswordLength = 12;

    public async Task<UserRecord> CreateUserAsync(string email, string password, bool isAdmin, CancellationToken cancellationToken)
    {
        email = NormalizeEmail(email);
        if (!EmailPattern().IsMatch(email))
        {
            throw new AccountException($"'{email}' is not an email address.");
        }
        if (password.Length < MinPasswordLength)
        {
            throw new AccountException($"The password must be at least {MinPasswordLength} characters long.");
        }
        if (await store.FindUserByEmailAsync(email, cancellationToken) is not null)
        {
            throw new AccountException($"A user with email {email} already exists.");
        }
        var placeholder = new UserRecord(0, email, string.Empty, isAdmin, time.GetUtcNow());
        var user = await store.CreateUserAsync(email, Hasher.HashPassword(placeholder, password), isAdmin, time.GetUtcNow(), cancellationToken);
        if (isAdmin && await store.FindOrganizationAsync(Slug(selfReport.Value.Organization), cancellationToken) is { } internalOrganization)
        {
            // The internal organization (Faultline's own errors) is owned by every admin, also one added after it was created.
            await store.AddMemberAsync(internalOrganization.Id, user.Id, "owner", cancellationToken);
        }
        return user;
    }

    public async Task<UserRecord?> VerifyPasswordAsync(string email, string password, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByEmailAsync(NormalizeEmail(email), cancellationToken);
        if (user is null)
        {
            return null;
        }
        return Hasher.VerifyHashedPassword(user, user.PasswordHash, password) == PasswordVerificationResult.Failed ? null : user;
    }

    /// <summary>
    /// Creates the organization if needed, the project and its first key. A new organization gets
    /// <paramref name="ownerEmail"/> as owner, or every server admin when no owner is named.
    /// </summary>
    public async Task<CreatedProject> CreateProjectAsync(string organization, string name, string? ownerEmail, CancellationToken cancellationToken)
    {
        var orgSlug = Slug(organization);
        var projectSlug = Slug(name);
        if (orgSlug.Length == 0 || projectSlug.Length == 0)
        {
            throw new AccountException("Organization and project names need at least one letter or digit.");
        }
        UserRecord? owner = null;
        if (ownerEmail is not null)
        {
            owner = await store.FindUserByEmailAsync(NormalizeEmail(ownerEmail), cancellationToken)
                ?? throw new AccountException($"No user has email {ownerEmail}.");
        }
        var now = time.GetUtcNow();
        var (org, created) = await store.GetOrCreateOrganizationAsync(orgSlug, organization.Trim(), now, cancellationToken);
        if (owner is not null)
        {
            await store.AddMemberAsync(org.Id, owner.Id, "owner", cancellationToken);
        }
        else if (created)
        {
            foreach (var admin in await store.ListAdminsAsync(cancellationToken))
            {
                await store.AddMemberAsync(org.Id, admin.Id, "owner", cancellationToken);
            }
        }
        ProjectRecord project;
        try
        {
            project = await store.CreateProjectAsync(org.Id, name.Trim(), projectSlug, now, cancellationToken);
        }
        catch (Exception e) when (IsUniqueViolation(e))
        {
            throw new AccountException($"Organization {orgSlug} already has a project named {projectSlug}.");
        }
        var key = await store.CreateProjectKeyAsync(project.Id, Secrets.NewPublicKey(), now, cancellationToken);
        return new CreatedProject(org, project, key, Dsn(key.PublicKey, project.Id));
    }

    /// <summary>Creates an API token for the user and returns it; only its hash is kept.</summary>
    public async Task<string> CreateApiTokenAsync(string email, string name, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByEmailAsync(NormalizeEmail(email), cancellationToken)
            ?? throw new AccountException($"No user has email {email}.");
        var token = Secrets.NewApiToken();
        await store.CreateApiTokenAsync(user.Id, name, Secrets.HashToken(token), time.GetUtcNow(), cancellationToken);
        return token;
    }

    /// <summary>The DSN Sentry SDKs and our SDK take: scheme://KEY@host[:port][/prefix]/PROJECT_ID.</summary>
    public string Dsn(string publicKey, long projectId)
    {
        var baseUri = new Uri(options.Value.PublicUrl.TrimEnd('/') + "/");
        var prefix = baseUri.AbsolutePath.TrimEnd('/');
        return $"{baseUri.Scheme}://{publicKey}@{baseUri.Authority}{prefix}/{projectId}";
    }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    public static string Slug(string name) => SlugSeparator().Replace(name.Trim().ToLowerInvariant(), "-").Trim('-');

    public static bool IsEmail(string email) => EmailPattern().IsMatch(email);

    internal static bool IsUniqueViolation(Exception e) =>
        e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation }
        || e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 19 };

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex SlugSeparator();
}

/// <summary>An account operation refused with a message meant for the person who asked.</summary>
public sealed class AccountException(string message, AccountError error = AccountError.Invalid) : Exception(message)
{
    /// <summary>Why it was refused; the HTTP API answers 400, 403, 404 or 409 accordingly.</summary>
    public AccountError Error { get; } = error;
}

public enum AccountError
{
    Invalid,
    Forbidden,
    NotFound,
    Conflict,
}

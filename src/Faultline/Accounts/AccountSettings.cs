using Faultline.Storage;
using Microsoft.AspNetCore.Identity;

namespace Faultline.Accounts;

/// <summary>An API token just created: the only time <see cref="Token"/> is ever shown.</summary>
public sealed record CreatedApiToken(ApiTokenRecord Record, string Token);

/// <summary>What signed-in users do to their own account: password and API tokens.</summary>
public sealed class AccountSettings(IAccountStore accounts, IAccountAdminStore store, TimeProvider time)
{
    public const int MaxTokenNameLength = 100;
    private static readonly PasswordHasher<UserRecord> Hasher = new();

    public async Task<UserRecord> GetUserAsync(long userId, CancellationToken cancellationToken) =>
        await store.GetUserAsync(userId, cancellationToken) ?? throw new AccountException("Your user no longer exists.", AccountError.NotFound);

    public async Task ChangePasswordAsync(long userId, string? currentPassword, string? newPassword, CancellationToken cancellationToken)
    {
        var user = await GetUserAsync(userId, cancellationToken);
        if (string.IsNullOrEmpty(currentPassword) || Hasher.VerifyHashedPassword(user, user.PasswordHash, currentPassword) == PasswordVerificationResult.Failed)
        {
            throw new AccountException("The current password is wrong.");
        }
        if (newPassword is null || newPassword.Length < AccountService.MinPasswordLength)
        {
            throw new AccountException($"The new password must be at least {AccountService.MinPasswordLength} characters long.");
        }
        if (newPassword == currentPassword)
        {
            throw new AccountException("The new password is the same as the current one.");
        }
        await store.UpdatePasswordHashAsync(userId, Hasher.HashPassword(user, newPassword), cancellationToken);
    }

    public Task<IReadOnlyList<ApiTokenRecord>> ListTokensAsync(long userId, CancellationToken cancellationToken) =>
        store.ListApiTokensAsync(userId, cancellationToken);

    public async Task<CreatedApiToken> CreateTokenAsync(long userId, string? name, CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxTokenNameLength)
        {
            throw new AccountException($"name must have 1 to {MaxTokenNameLength} characters.");
        }
        var token = Secrets.NewApiToken();
        var now = time.GetUtcNow();
        var id = await accounts.CreateApiTokenAsync(userId, name, Secrets.HashToken(token), now, cancellationToken);
        return new CreatedApiToken(new ApiTokenRecord(id, name, now, null), token);
    }

    /// <summary>Revokes the token; it is refused from the next request on (tokens are not cached).</summary>
    public async Task RevokeTokenAsync(long userId, long tokenId, CancellationToken cancellationToken)
    {
        if (!await store.RevokeApiTokenAsync(userId, tokenId, time.GetUtcNow(), cancellationToken))
        {
            throw new AccountException($"You have no active API token {tokenId}.", AccountError.NotFound);
        }
    }
}

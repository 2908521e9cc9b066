using System.Data.Common;
using Faultline.Accounts;

namespace Faultline.Storage;

/// <summary>Account management (members, roles, key revocation, tokens, passwords): the same SQL on both engines.</summary>
public abstract partial class SqlStoreBase : IAccountAdminStore
{
    /// <summary>
    /// Run first in a membership transaction so two owners removing each other at once cannot both
    /// pass the last-owner check. SQLite needs none: its transactions begin IMMEDIATE (one writer).
    /// </summary>
    protected virtual string? LockOrganizationSql => null;

    public async Task<UserRecord?> GetUserAsync(long userId, CancellationToken cancellationToken)
    {
        var users = await ReadUsersAsync("WHERE id = @id", cancellationToken, ("@id", userId));
        return users.Count == 0 ? null : users[0];
    }

    public async Task UpdatePasswordHashAsync(long userId, string passwordHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("UPDATE users SET password_hash = @h, session_version = session_version + 1 WHERE id = @id").With("@h", passwordHash).With("@id", userId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<MembershipRecord>> ListMembershipsAsync(long userId, CancellationToken cancellationToken) =>
        ReadMembershipsAsync("WHERE m.user_id = @u ORDER BY o.slug", cancellationToken, ("@u", userId));

    public async Task<MembershipRecord?> GetMembershipAsync(long userId, long organizationId, CancellationToken cancellationToken)
    {
        var memberships = await ReadMembershipsAsync("WHERE m.user_id = @u AND m.organization_id = @o", cancellationToken, ("@u", userId), ("@o", organizationId));
        return memberships.Count == 0 ? null : memberships[0];
    }

    private async Task<IReadOnlyList<MembershipRecord>> ReadMembershipsAsync(string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT o.id, o.slug, o.name, o.created_at, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var memberships = new List<MembershipRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            memberships.Add(new MembershipRecord(
                new OrganizationRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), ReadTime(reader, 3)), reader.GetString(4)));
        }
        return memberships;
    }

    public async Task<IReadOnlyList<MemberRecord>> ListMembersAsync(long organizationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = @o ORDER BY u.email")
            .With("@o", organizationId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var members = new List<MemberRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            members.Add(new MemberRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }
        return members;
    }

    public async Task<bool> InsertMemberAsync(long organizationId, long userId, string role, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO memberships (organization_id, user_id, role) VALUES (@o, @u, @r) ON CONFLICT (organization_id, user_id) DO NOTHING RETURNING user_id")
            .With("@o", organizationId).With("@u", userId).With("@r", role);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public Task<MemberChange> SetMemberRoleAsync(long organizationId, long userId, string role, CancellationToken cancellationToken) =>
        ChangeMembershipAsync(organizationId, userId, role == Roles.Owner,
            "UPDATE memberships SET role = @r WHERE organization_id = @o AND user_id = @u", ("@r", role), cancellationToken);

    public Task<MemberChange> RemoveMemberAsync(long organizationId, long userId, CancellationToken cancellationToken) =>
        ChangeMembershipAsync(organizationId, userId, staysOwner: false,
            "DELETE FROM memberships WHERE organization_id = @o AND user_id = @u", null, cancellationToken);

    /// <summary>Applies the change unless it would leave the organization without an owner, in one transaction.</summary>
    private async Task<MemberChange> ChangeMembershipAsync(long organizationId, long userId, bool staysOwner, string sql, (string Name, object Value)? parameter, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (LockOrganizationSql is { } lockSql)
        {
            await using var lockCommand = connection.Command(lockSql, transaction).With("@o", organizationId);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        string? role;
        await using (var select = connection.Command("SELECT role FROM memberships WHERE organization_id = @o AND user_id = @u", transaction)
            .With("@o", organizationId).With("@u", userId))
        {
            role = await select.ExecuteScalarAsync(cancellationToken) as string;
        }
        if (role is null)
        {
            return MemberChange.NotMember;
        }
        if (role == Roles.Owner && !staysOwner)
        {
            await using var count = connection.Command("SELECT count(*) FROM memberships WHERE organization_id = @o AND role = @owner", transaction)
                .With("@o", organizationId).With("@owner", Roles.Owner);
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) <= 1)
            {
                return MemberChange.LastOwner;
            }
        }
        await using (var change = connection.Command(sql, transaction).With("@o", organizationId).With("@u", userId))
        {
            if (parameter is { } p)
            {
                change.With(p.Name, p.Value);
            }
            await change.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return MemberChange.Done;
    }

    public async Task<ProjectKeyRecord?> GetProjectKeyAsync(long projectId, long keyId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadKeyAsync(connection, projectId, keyId, cancellationToken);
    }

    public async Task<ProjectKeyRecord?> RevokeProjectKeyAsync(long projectId, long keyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "UPDATE project_keys SET revoked_at = @t WHERE id = @id AND project_id = @p AND revoked_at IS NULL")
            .With("@t", Db(now)).With("@id", keyId).With("@p", projectId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return await ReadKeyAsync(connection, projectId, keyId, cancellationToken);
    }

    public async Task<ProjectKeyRecord?> SetProjectKeyRateLimitAsync(long projectId, long keyId, double? eventsPerSecond, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("UPDATE project_keys SET rate_limit_per_second = @r WHERE id = @id AND project_id = @p")
            .With("@r", eventsPerSecond).With("@id", keyId).With("@p", projectId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return await ReadKeyAsync(connection, projectId, keyId, cancellationToken);
    }

    private async Task<ProjectKeyRecord?> ReadKeyAsync(DbConnection connection, long projectId, long keyId, CancellationToken cancellationToken)
    {
        var keys = await ReadKeysAsync(connection, "WHERE k.id = @id AND k.project_id = @p", cancellationToken, ("@id", keyId), ("@p", projectId));
        return keys.Count == 0 ? null : keys[0];
    }

    public async Task<IReadOnlyList<ApiTokenRecord>> ListApiTokensAsync(long userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = @u AND revoked_at IS NULL ORDER BY id").With("@u", userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<ApiTokenRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tokens.Add(new ApiTokenRecord(reader.GetInt64(0), reader.GetString(1), ReadTime(reader, 2), ReadNullableTime(reader, 3)));
        }
        return tokens;
    }

    public async Task<bool> RevokeApiTokenAsync(long userId, long tokenId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "UPDATE api_tokens SET revoked_at = @t WHERE id = @id AND user_id = @u AND revoked_at IS NULL")
            .With("@t", Db(now)).With("@id", tokenId).With("@u", userId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task TouchApiTokenAsync(long tokenId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("UPDATE api_tokens SET last_used_at = @t WHERE id = @id").With("@t", Db(now)).With("@id", tokenId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

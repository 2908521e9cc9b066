using System.Data.Common;

namespace Faultline.Storage;

/// <summary>
/// What both engines share: the account tables use the same SQL on SQLite and PostgreSQL;
/// only connections and the timestamp representation differ.
/// </summary>
public abstract partial class SqlStoreBase
{
    protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>The engine's representation of a timestamp parameter.</summary>
    protected abstract object Db(DateTimeOffset value);

    protected abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT max(version) FROM schema_migrations");
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    protected DateTimeOffset? ReadNullableTime(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : ReadTime(reader, ordinal);

    protected static async Task<long> InsertReturningIdAsync(DbCommand command, CancellationToken cancellationToken) =>
        Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

    private const string ProjectColumns = "p.id, p.organization_id, o.slug, p.name, p.slug, p.created_at";
    private const string KeyColumns = "k.id, k.project_id, p.organization_id, k.public_key, k.created_at, k.revoked_at, k.rate_limit_per_second";

    public async Task<UserRecord> CreateUserAsync(string email, string passwordHash, bool isAdmin, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO users (email, password_hash, is_admin, created_at) VALUES (@e, @h, @a, @t) RETURNING id")
            .With("@e", email).With("@h", passwordHash).With("@a", isAdmin).With("@t", Db(now));
        var id = await InsertReturningIdAsync(command, cancellationToken);
        return new UserRecord(id, email, passwordHash, isAdmin, now);
    }

    public async Task<UserRecord?> FindUserByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var users = await ReadUsersAsync("WHERE email = @e", cancellationToken, ("@e", email));
        return users.Count == 0 ? null : users[0];
    }

    public Task<IReadOnlyList<UserRecord>> ListAdminsAsync(CancellationToken cancellationToken) =>
        ReadUsersAsync("WHERE is_admin = @a ORDER BY id", cancellationToken, ("@a", true));

    private async Task<IReadOnlyList<UserRecord>> ReadUsersAsync(string where, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT id, email, password_hash, is_admin, created_at FROM users {where}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var users = new List<UserRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(new UserRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), ReadTime(reader, 4)));
        }
        return users;
    }

    public async Task<OrganizationRecord?> FindOrganizationAsync(string slug, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await FindOrganizationAsync(connection, slug, cancellationToken);
    }

    private async Task<OrganizationRecord?> FindOrganizationAsync(DbConnection connection, string slug, CancellationToken cancellationToken)
    {
        await using var select = connection.Command("SELECT id, slug, name, created_at FROM organizations WHERE slug = @s").With("@s", slug);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new OrganizationRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), ReadTime(reader, 3))
            : null;
    }

    public async Task<(OrganizationRecord Organization, bool Created)> GetOrCreateOrganizationAsync(string slug, string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var insert = connection.Command(
            "INSERT INTO organizations (slug, name, created_at) VALUES (@s, @n, @t) ON CONFLICT (slug) DO NOTHING RETURNING id")
            .With("@s", slug).With("@n", name).With("@t", Db(now));
        var created = await insert.ExecuteScalarAsync(cancellationToken) is not null;
        var organization = await FindOrganizationAsync(connection, slug, cancellationToken)
            ?? throw new InvalidOperationException($"Organization {slug} was neither inserted nor found.");
        return (organization, created);
    }

    public async Task AddMemberAsync(long organizationId, long userId, string role, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO memberships (organization_id, user_id, role) VALUES (@o, @u, @r) ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role")
            .With("@o", organizationId).With("@u", userId).With("@r", role);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ProjectRecord> CreateProjectAsync(long organizationId, string name, string slug, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO projects (organization_id, name, slug, created_at) VALUES (@o, @n, @s, @t) RETURNING id")
            .With("@o", organizationId).With("@n", name).With("@s", slug).With("@t", Db(now));
        var id = await InsertReturningIdAsync(command, cancellationToken);
        var projects = await ReadProjectsAsync(connection, "WHERE p.id = @id", cancellationToken, ("@id", id));
        return projects[0];
    }

    public async Task<ProjectKeyRecord> CreateProjectKeyAsync(long projectId, string publicKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO project_keys (project_id, public_key, created_at) VALUES (@p, @k, @t)")
            .With("@p", projectId).With("@k", publicKey).With("@t", Db(now));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return (await ReadKeysAsync(connection, "WHERE k.public_key = @k", cancellationToken, ("@k", publicKey)))[0];
    }

    public async Task<ProjectKeyRecord?> FindProjectKeyAsync(string publicKey, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var keys = await ReadKeysAsync(connection, "WHERE k.public_key = @k", cancellationToken, ("@k", publicKey));
        return keys.Count == 0 ? null : keys[0];
    }

    public async Task<IReadOnlyList<ProjectKeyRecord>> ListProjectKeysAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadKeysAsync(connection, "WHERE k.project_id = @p ORDER BY k.id", cancellationToken, ("@p", projectId));
    }

    public async Task<long> CreateApiTokenAsync(long userId, string name, string tokenHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (@u, @n, @h, @t) RETURNING id")
            .With("@u", userId).With("@n", name).With("@h", tokenHash).With("@t", Db(now));
        return await InsertReturningIdAsync(command, cancellationToken);
    }

    public async Task<TokenOwner?> FindApiTokenAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT t.id, u.id, u.email, u.is_admin FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = @h AND t.revoked_at IS NULL")
            .With("@h", tokenHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new TokenOwner(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetBoolean(3))
            : null;
    }

    public async Task<IReadOnlyList<ProjectRecord>> ListProjectsForUserAsync(long userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadProjectsAsync(connection,
            "JOIN memberships m ON m.organization_id = p.organization_id WHERE m.user_id = @u ORDER BY o.slug, p.slug",
            cancellationToken, ("@u", userId));
    }

    public async Task<ProjectRecord?> GetProjectForUserAsync(long userId, long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var projects = await ReadProjectsAsync(connection,
            "JOIN memberships m ON m.organization_id = p.organization_id WHERE m.user_id = @u AND p.id = @p",
            cancellationToken, ("@u", userId), ("@p", projectId));
        return projects.Count == 0 ? null : projects[0];
    }

    protected async Task<IReadOnlyList<ProjectRecord>> ReadProjectsAsync(DbConnection connection, string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.Command($"SELECT {ProjectColumns} FROM projects p JOIN organizations o ON o.id = p.organization_id {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var projects = new List<ProjectRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            projects.Add(new ProjectRecord(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), ReadTime(reader, 5)));
        }
        return projects;
    }

    private async Task<IReadOnlyList<ProjectKeyRecord>> ReadKeysAsync(DbConnection connection, string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.Command($"SELECT {KeyColumns} FROM project_keys k JOIN projects p ON p.id = k.project_id {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ProjectKeyRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new ProjectKeyRecord(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3),
                ReadTime(reader, 4), ReadNullableTime(reader, 5), reader.NullableDouble(6)));
        }
        return keys;
    }
}

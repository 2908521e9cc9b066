using Faultline.Retention;
using Faultline.Search;

namespace Faultline.Storage;

/// <summary>Applies the versioned schema; idempotent, safe to run at every start and from several nodes.</summary>
public interface ISchemaMigrator
{
    /// <returns>The versions applied by this call (empty when the schema was current).</returns>
    Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken);

    /// <summary>The highest applied schema version, or 0 when none; throws when the store is unreachable.</summary>
    Task<int> SchemaVersionAsync(CancellationToken cancellationToken);

    /// <summary>The version this build migrates to.</summary>
    int LatestSchemaVersion { get; }

    /// <summary>Creates storage that must exist ahead of time (PostgreSQL daily partitions).</summary>
    Task PrepareAheadAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

public interface IAccountStore
{
    Task<UserRecord> CreateUserAsync(string email, string passwordHash, bool isAdmin, DateTimeOffset now, CancellationToken cancellationToken);
    Task<UserRecord?> FindUserByEmailAsync(string email, CancellationToken cancellationToken);
    Task<IReadOnlyList<UserRecord>> ListAdminsAsync(CancellationToken cancellationToken);
    Task<OrganizationRecord?> FindOrganizationAsync(string slug, CancellationToken cancellationToken);
    Task<(OrganizationRecord Organization, bool Created)> GetOrCreateOrganizationAsync(string slug, string name, DateTimeOffset now, CancellationToken cancellationToken);
    Task AddMemberAsync(long organizationId, long userId, string role, CancellationToken cancellationToken);
    Task<ProjectRecord> CreateProjectAsync(long organizationId, string name, string slug, DateTimeOffset now, CancellationToken cancellationToken);
    Task<ProjectKeyRecord> CreateProjectKeyAsync(long projectId, string publicKey, DateTimeOffset now, CancellationToken cancellationToken);
    Task<ProjectKeyRecord?> FindProjectKeyAsync(string publicKey, CancellationToken cancellationToken);
    Task<IReadOnlyList<ProjectKeyRecord>> ListProjectKeysAsync(long projectId, CancellationToken cancellationToken);
    Task<long> CreateApiTokenAsync(long userId, string name, string tokenHash, DateTimeOffset now, CancellationToken cancellationToken);
    Task<TokenOwner?> FindApiTokenAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Projects in the organizations the user is a member of.</summary>
    Task<IReadOnlyList<ProjectRecord>> ListProjectsForUserAsync(long userId, CancellationToken cancellationToken);

    /// <summary>The project, or null when it does not exist or the user is not a member of its organization.</summary>
    Task<ProjectRecord?> GetProjectForUserAsync(long userId, long projectId, CancellationToken cancellationToken);
}

public interface IEventStore
{
    /// <summary>How many batches the writer may commit at once (SQLite has a single writer: 1).</summary>
    int MaxConcurrentBatches { get; }

    /// <summary>
    /// Writes the batch in one transaction: skips event ids already stored for their project,
    /// upserts the issues, inserts the events. Returns only after commit.
    /// </summary>
    Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken);
}

public sealed record IssueListRequest(SearchQuery Query, IssueSort Sort, int Limit, string? Cursor);

public sealed record EventListRequest(SearchQuery Query, long? IssueId, int Limit, string? Cursor);

public interface IIssueStore
{
    Task<Page<IssueRecord>> ListIssuesAsync(long projectId, IssueListRequest request, CancellationToken cancellationToken);

    /// <summary>The issue, or null when it does not exist or the user is not a member of its organization.</summary>
    Task<IssueRecord?> GetIssueForUserAsync(long userId, long issueId, CancellationToken cancellationToken);

    Task<IssueRecord?> UpdateIssueAsync(long issueId, IssueUpdate update, DateTimeOffset now, CancellationToken cancellationToken);

    Task<Page<EventRecord>> ListEventsAsync(long projectId, EventListRequest request, CancellationToken cancellationToken);

    /// <summary>The event with this id in a project the user can see, or null.</summary>
    Task<EventRecord?> GetEventForUserAsync(long userId, Guid eventId, CancellationToken cancellationToken);

    Task<IReadOnlyList<StatsBucket>> GetEventStatsAsync(long projectId, SearchQuery query, DateTimeOffset since, DateTimeOffset until, TimeSpan interval, CancellationToken cancellationToken);
}

/// <summary>Everything a storage provider implements; one implementation per engine.</summary>
public interface IFaultlineStore : IAccountStore, Accounts.IAccountAdminStore, IEventStore, IIssueStore, ISchemaMigrator, IDashboardStore, IRetentionStore, Faultline.Alerts.IAlertStore, IOperationsStore, Docker.ILogStreamStore;

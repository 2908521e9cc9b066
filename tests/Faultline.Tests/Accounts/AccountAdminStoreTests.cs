using Faultline.Accounts;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Accounts;

/// <summary>The account-management store contract, run against both engines.</summary>
public abstract class AccountAdminStoreTests(StoreKind kind) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private TestDatabase _database = null!;
    private IFaultlineStore _store = null!;
    private OrganizationRecord _acme = null!;
    private OrganizationRecord _globex = null!;
    private long _projectId;
    private long _ownerId;
    private long _memberId;
    private long _outsiderId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(kind);
        _store = await _database.OpenStoreAsync();
        (_acme, _) = await _store.GetOrCreateOrganizationAsync("acme", "Acme", Now, default);
        (_globex, _) = await _store.GetOrCreateOrganizationAsync("globex", "Globex", Now, default);
        _projectId = (await _store.CreateProjectAsync(_acme.Id, "Web", "web", Now, default)).Id;
        _ownerId = (await _store.CreateUserAsync("owner@acme.test", "hash", false, Now, default)).Id;
        _memberId = (await _store.CreateUserAsync("member@acme.test", "hash", false, Now, default)).Id;
        _outsiderId = (await _store.CreateUserAsync("outsider@globex.test", "hash", false, Now, default)).Id;
        await _store.AddMemberAsync(_acme.Id, _ownerId, Roles.Owner, default);
        await _store.AddMemberAsync(_acme.Id, _memberId, Roles.Member, default);
        await _store.AddMemberAsync(_globex.Id, _outsiderId, Roles.Owner, default);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Memberships_give_the_organization_and_role_and_nothing_outside()
    {
        var mine = await _store.ListMembershipsAsync(_memberId, default);

        Assert.Equal(["acme"], mine.Select(m => m.Organization.Slug));
        Assert.Equal(Roles.Member, mine[0].Role);
        Assert.Equal(Roles.Owner, (await _store.GetMembershipAsync(_ownerId, _acme.Id, default))!.Role);
        Assert.Null(await _store.GetMembershipAsync(_outsiderId, _acme.Id, default));
    }

    [Fact]
    public async Task Members_are_listed_by_email_with_roles()
    {
        var members = await _store.ListMembersAsync(_acme.Id, default);

        Assert.Equal([("member@acme.test", Roles.Member), ("owner@acme.test", Roles.Owner)], members.Select(m => (m.Email, m.Role)));
        Assert.Equal(_memberId, members[0].UserId);
    }

    [Fact]
    public async Task Inserting_an_existing_member_changes_nothing()
    {
        Assert.True(await _store.InsertMemberAsync(_acme.Id, _outsiderId, Roles.Admin, default));
        Assert.False(await _store.InsertMemberAsync(_acme.Id, _outsiderId, Roles.Owner, default));

        Assert.Equal(Roles.Admin, (await _store.GetMembershipAsync(_outsiderId, _acme.Id, default))!.Role);
    }

    [Fact]
    public async Task The_last_owner_can_be_neither_demoted_nor_removed()
    {
        Assert.Equal(MemberChange.LastOwner, await _store.SetMemberRoleAsync(_acme.Id, _ownerId, Roles.Admin, default));
        Assert.Equal(MemberChange.LastOwner, await _store.RemoveMemberAsync(_acme.Id, _ownerId, default));
        Assert.Equal(Roles.Owner, (await _store.GetMembershipAsync(_ownerId, _acme.Id, default))!.Role);

        Assert.Equal(MemberChange.Done, await _store.SetMemberRoleAsync(_acme.Id, _memberId, Roles.Owner, default));
        Assert.Equal(MemberChange.Done, await _store.RemoveMemberAsync(_acme.Id, _ownerId, default));
        Assert.Null(await _store.GetMembershipAsync(_ownerId, _acme.Id, default));
    }

    [Fact]
    public async Task Two_owners_removing_each_other_at_once_leave_one_owner()
    {
        await _store.SetMemberRoleAsync(_acme.Id, _memberId, Roles.Owner, default);

        var results = await Task.WhenAll(
            Task.Run(() => _store.RemoveMemberAsync(_acme.Id, _ownerId, default)),
            Task.Run(() => _store.RemoveMemberAsync(_acme.Id, _memberId, default)));

        Assert.Equal([MemberChange.Done, MemberChange.LastOwner], results.Order());
        Assert.Single(await _store.ListMembersAsync(_acme.Id, default), m => m.Role == Roles.Owner);
    }

    [Fact]
    public async Task Changing_someone_who_is_not_a_member_reports_it()
    {
        Assert.Equal(MemberChange.NotMember, await _store.SetMemberRoleAsync(_acme.Id, _outsiderId, Roles.Admin, default));
        Assert.Equal(MemberChange.NotMember, await _store.RemoveMemberAsync(_acme.Id, _outsiderId, default));
    }

    [Fact]
    public async Task A_revoked_key_keeps_its_revocation_time_and_belongs_to_its_project_only()
    {
        var key = await _store.CreateProjectKeyAsync(_projectId, "0123456789abcdef0123456789abcdef", Now, default);
        var otherProject = (await _store.CreateProjectAsync(_globex.Id, "Api", "api", Now, default)).Id;

        Assert.Null(await _store.RevokeProjectKeyAsync(otherProject, key.Id, Now, default));
        Assert.Null((await _store.FindProjectKeyAsync(key.PublicKey, default))!.RevokedAt);

        var revoked = await _store.RevokeProjectKeyAsync(_projectId, key.Id, Now, default);
        var again = await _store.RevokeProjectKeyAsync(_projectId, key.Id, Now.AddHours(1), default);

        Assert.NotNull(revoked!.RevokedAt);
        Assert.Equal(revoked.RevokedAt, again!.RevokedAt);
        Assert.Equal(revoked.RevokedAt, (await _store.FindProjectKeyAsync(key.PublicKey, default))!.RevokedAt);
        Assert.Null(await _store.GetProjectKeyAsync(otherProject, key.Id, default));
    }

    [Fact]
    public async Task A_key_rate_limit_is_set_and_reset_to_the_default()
    {
        var key = await _store.CreateProjectKeyAsync(_projectId, "fedcba9876543210fedcba9876543210", Now, default);

        Assert.Equal(2.5, (await _store.SetProjectKeyRateLimitAsync(_projectId, key.Id, 2.5, default))!.RateLimitPerSecond);
        Assert.Equal(2.5, (await _store.FindProjectKeyAsync(key.PublicKey, default))!.RateLimitPerSecond);
        Assert.Null((await _store.SetProjectKeyRateLimitAsync(_projectId, key.Id, null, default))!.RateLimitPerSecond);
        Assert.Null(await _store.SetProjectKeyRateLimitAsync(_projectId, key.Id + 1000, 1, default));
    }

    [Fact]
    public async Task Tokens_are_listed_without_secrets_and_revoked_only_by_their_owner()
    {
        var first = await _store.CreateApiTokenAsync(_memberId, "ci", "hash-1", Now, default);
        var second = await _store.CreateApiTokenAsync(_memberId, "laptop", "hash-2", Now, default);
        await _store.CreateApiTokenAsync(_outsiderId, "theirs", "hash-3", Now, default);

        Assert.False(await _store.RevokeApiTokenAsync(_outsiderId, first, Now, default));
        Assert.True(await _store.RevokeApiTokenAsync(_memberId, first, Now, default));
        Assert.False(await _store.RevokeApiTokenAsync(_memberId, first, Now, default));

        var tokens = await _store.ListApiTokensAsync(_memberId, default);
        Assert.Equal([(second, "laptop")], tokens.Select(t => (t.Id, t.Name)));
        Assert.Null(await _store.FindApiTokenAsync("hash-1", default));
        Assert.NotNull(await _store.FindApiTokenAsync("hash-2", default));
    }

    [Fact]
    public async Task Touching_a_token_records_when_it_was_last_used()
    {
        var id = await _store.CreateApiTokenAsync(_memberId, "ci", "hash-1", Now, default);
        Assert.Null((await _store.ListApiTokensAsync(_memberId, default)).Single().LastUsedAt);

        var used = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        await _store.TouchApiTokenAsync(id, used, default);

        Assert.Equal(used, (await _store.ListApiTokensAsync(_memberId, default)).Single().LastUsedAt);
    }

    [Fact]
    public async Task A_password_hash_is_replaced_for_that_user_only()
    {
        await _store.UpdatePasswordHashAsync(_memberId, "new-hash", default);

        Assert.Equal("new-hash", (await _store.GetUserAsync(_memberId, default))!.PasswordHash);
        Assert.Equal("hash", (await _store.GetUserAsync(_ownerId, default))!.PasswordHash);
        Assert.Null(await _store.GetUserAsync(999_999, default));
    }
}

public sealed class SqliteAccountAdminStoreTests() : AccountAdminStoreTests(StoreKind.Sqlite);

public sealed class PostgresAccountAdminStoreTests() : AccountAdminStoreTests(StoreKind.Postgres);

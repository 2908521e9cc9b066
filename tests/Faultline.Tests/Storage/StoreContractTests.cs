using Faultline.Events;
using Faultline.Search;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Storage;

/// <summary>One contract, run against both engines (see the two subclasses at the end).</summary>
public abstract partial class StoreContractTests(StoreKind kind) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private TestDatabase _database = null!;
    private IFaultlineStore _store = null!;
    private long _projectId;
    private long _memberId;
    private long _outsiderId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(kind);
        _store = await _database.OpenStoreAsync();
        var (org, _) = await _store.GetOrCreateOrganizationAsync("acme", "Acme", Now, default);
        _projectId = (await _store.CreateProjectAsync(org.Id, "Web", "web", Now, default)).Id;
        _memberId = (await _store.CreateUserAsync("member@acme.test", "hash", false, Now, default)).Id;
        _outsiderId = (await _store.CreateUserAsync("outsider@other.test", "hash", false, Now, default)).Id;
        await _store.AddMemberAsync(org.Id, _memberId, "member", default);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private Task<BatchWriteResult> WriteAsync(params FaultlineEvent[] events) =>
        _store.WriteBatchAsync(events.Select(e => EventBuilder.Prepare(_projectId, e)).ToList(), default);

    private Task<Page<IssueRecord>> IssuesAsync(string query = "", IssueSort sort = IssueSort.LastSeen, int limit = 50, string? cursor = null) =>
        _store.ListIssuesAsync(_projectId, new IssueListRequest(QueryParser.Parse(query, DateTimeOffset.UtcNow), sort, limit, cursor), default);

    private Task<Page<EventRecord>> EventsAsync(string query = "", int limit = 50, string? cursor = null) =>
        _store.ListEventsAsync(_projectId, new EventListRequest(QueryParser.Parse(query, DateTimeOffset.UtcNow), null, limit, cursor), default);

    [Fact]
    public async Task Migrating_again_applies_nothing()
    {
        Assert.Empty(await _store.MigrateAsync(default));
    }

    [Fact]
    public async Task Events_of_one_call_site_make_one_issue_with_their_count()
    {
        var result = await WriteAsync(
            EventBuilder.Exception("TimeoutException", "after 100 ms"),
            EventBuilder.Exception("TimeoutException", "after 250 ms"),
            EventBuilder.Exception("KeyNotFoundException", "missing", function: "LoadCart"));

        Assert.Equal(3, result.Stored.Count);
        Assert.Equal(2, result.Issues.Count);
        Assert.All(result.Issues, i => Assert.True(i.Created));
        var issues = (await IssuesAsync(sort: IssueSort.Count)).Items;
        Assert.Equal(2, issues.Count);
        Assert.Equal(2, issues[0].TimesSeen);
        Assert.StartsWith("TimeoutException", issues[0].Title, StringComparison.Ordinal);
        Assert.Equal(1, issues[1].TimesSeen);
    }

    [Fact]
    public async Task A_repeated_event_id_is_stored_once_and_counted_once()
    {
        var id = Guid.NewGuid();
        await WriteAsync(EventBuilder.Message("hello", id: id));
        var again = await WriteAsync(EventBuilder.Message("hello", id: id), EventBuilder.Message("hello", id: id));

        Assert.Empty(again.Stored);
        Assert.Single((await EventsAsync()).Items);
        Assert.Equal(1, (await IssuesAsync()).Items.Single().TimesSeen);
    }

    [Fact]
    public async Task An_event_on_a_resolved_issue_reopens_it_as_regressed()
    {
        var first = await WriteAsync(EventBuilder.Exception("IOException", "disk"));
        var issueId = first.Issues.Single().IssueId;
        var resolved = await _store.UpdateIssueAsync(issueId, new IssueUpdate(IssueStatus.Resolved, null), Now, default);
        Assert.Equal(IssueStatus.Resolved, resolved!.Status);
        Assert.NotNull(resolved.ResolvedAt);

        var second = await WriteAsync(EventBuilder.Exception("IOException", "disk"));

        var change = second.Issues.Single();
        Assert.False(change.Created);
        Assert.True(change.Regressed);
        var issue = await _store.GetIssueForUserAsync(_memberId, issueId, default);
        Assert.Equal(IssueStatus.Unresolved, issue!.Status);
        Assert.True(issue.Regressed);
        Assert.Null(issue.ResolvedAt);
        Assert.Equal(2, issue.TimesSeen);
    }

    [Fact]
    public async Task An_ignored_issue_stays_ignored_when_events_arrive()
    {
        var issueId = (await WriteAsync(EventBuilder.Message("noisy"))).Issues.Single().IssueId;
        await _store.UpdateIssueAsync(issueId, new IssueUpdate(IssueStatus.Ignored, true), Now, default);

        var change = (await WriteAsync(EventBuilder.Message("noisy"))).Issues.Single();

        Assert.False(change.Regressed);
        var issue = await _store.GetIssueForUserAsync(_memberId, issueId, default);
        Assert.Equal(IssueStatus.Ignored, issue!.Status);
        Assert.True(issue.Reviewed);
    }

    [Fact]
    public async Task Issue_filters_select_by_status_level_environment_tag_and_text()
    {
        await WriteAsync(
            EventBuilder.Exception("TimeoutException", "gateway slow", environment: "production", tags: new Dictionary<string, string> { ["region"] = "eu" }),
            EventBuilder.Exception("NullReferenceException", "cart was null", function: "Checkout", environment: "staging"),
            EventBuilder.Message("cache warmed", level: EventLevel.Info, environment: "production"));
        var timeout = (await IssuesAsync("timeout")).Items.Single();
        await _store.UpdateIssueAsync(timeout.Id, new IssueUpdate(IssueStatus.Resolved, null), Now, default);

        Assert.Equal(["NullReferenceException: cart was null"], (await IssuesAsync("environment:staging")).Items.Select(i => i.Title));
        Assert.Equal(["cache warmed"], (await IssuesAsync("level:info")).Items.Select(i => i.Title));
        Assert.Equal(timeout.Id, (await IssuesAsync("region:eu")).Items.Single().Id);
        Assert.Equal(timeout.Id, (await IssuesAsync("is:resolved")).Items.Single().Id);
        Assert.Equal(2, (await IssuesAsync("is:unresolved")).Items.Count);
        Assert.Equal(2, (await IssuesAsync("-region:eu")).Items.Count);
        Assert.Empty((await IssuesAsync("region:us")).Items);
        Assert.Single((await IssuesAsync("\"cart was\"")).Items);
        Assert.Single((await IssuesAsync("NullReference")).Items);
    }

    [Fact]
    public async Task An_issue_search_with_a_time_range_needs_a_matching_event_inside_the_range()
    {
        // One issue (same type and call site): the "alpha" event three days ago, the "beta" event an hour ago.
        await WriteAsync(
            EventBuilder.Exception("SocketException", "alpha refused", at: Now.AddDays(-3)),
            EventBuilder.Exception("SocketException", "beta reset", at: Now.AddHours(-1)));
        var issue = (await IssuesAsync("SocketException")).Items.Single();

        Assert.Equal(issue.Id, (await IssuesAsync("alpha")).Items.Single().Id);
        Assert.Empty((await IssuesAsync("alpha since:24h")).Items);
        Assert.Equal(issue.Id, (await IssuesAsync("beta since:24h")).Items.Single().Id);
        Assert.Equal(issue.Id, (await IssuesAsync("alpha since:4d")).Items.Single().Id);
        Assert.Empty((await IssuesAsync("beta age:+2d")).Items);
        Assert.Equal(issue.Id, (await IssuesAsync("alpha age:+2d")).Items.Single().Id);
    }

    [Fact]
    public async Task Issue_pages_follow_the_cursor_without_gaps_or_repeats()
    {
        var events = Enumerable.Range(0, 7).Select(i => EventBuilder.Message($"distinct failure {(char)('a' + i)}", at: Now.AddMinutes(-i))).ToArray();
        await WriteAsync(events);

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await IssuesAsync(limit: 3, cursor: cursor);
            seen.AddRange(page.Items.Select(i => i.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(7, seen.Distinct().Count());
        Assert.Equal(7, seen.Count);
        var all = (await IssuesAsync()).Items.Select(i => i.Id).ToList();
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task Issue_pages_go_back_with_the_previous_cursor_to_the_first_page()
    {
        var events = Enumerable.Range(0, 7).Select(i => EventBuilder.Message($"distinct failure {(char)('a' + i)}", at: Now.AddMinutes(-i))).ToArray();
        await WriteAsync(events);
        var all = (await IssuesAsync()).Items.Select(i => i.Id).ToList();

        var first = await IssuesAsync(limit: 3);
        Assert.Null(first.PreviousCursor);
        var second = await IssuesAsync(limit: 3, cursor: first.NextCursor);
        var third = await IssuesAsync(limit: 3, cursor: second.NextCursor);
        Assert.Equal(all[6..], third.Items.Select(i => i.Id));
        Assert.Null(third.NextCursor);

        var backToSecond = await IssuesAsync(limit: 3, cursor: third.PreviousCursor);
        Assert.Equal(all[3..6], backToSecond.Items.Select(i => i.Id));
        Assert.NotNull(backToSecond.PreviousCursor);
        Assert.Equal(third.Items.Select(i => i.Id), (await IssuesAsync(limit: 3, cursor: backToSecond.NextCursor)).Items.Select(i => i.Id));
        var backToFirst = await IssuesAsync(limit: 3, cursor: backToSecond.PreviousCursor);
        Assert.Equal(all[..3], backToFirst.Items.Select(i => i.Id));
        Assert.Null(backToFirst.PreviousCursor);

        // Two rows before a cursor with a page size of three: the full first page instead of a short one.
        var fromFourth = await IssuesAsync(limit: 1, cursor: (await IssuesAsync(limit: 2)).NextCursor);
        Assert.Equal(all[2], fromFourth.Items.Single().Id);
        Assert.Equal(all[..3], (await IssuesAsync(limit: 3, cursor: fromFourth.PreviousCursor)).Items.Select(i => i.Id));
    }

    [Fact]
    public async Task A_previous_page_cursor_is_refused_by_the_event_list()
    {
        await WriteAsync(EventBuilder.Message("one"), EventBuilder.Message("two"));
        var before = new PageCursor(Now.ToUnixTimeMilliseconds() * 1000, Guid.NewGuid().ToString("N"), Before: true).Encode();

        await Assert.ThrowsAsync<InvalidCursorException>(() => EventsAsync(cursor: before));
    }

    [Fact]
    public async Task A_cursor_that_was_not_issued_is_refused()
    {
        await Assert.ThrowsAsync<InvalidCursorException>(() => IssuesAsync(cursor: "not-a-cursor"));
    }

    [Fact]
    public async Task Event_search_matches_text_in_exception_type_and_message_and_pages_newest_first()
    {
        await WriteAsync(
            EventBuilder.Exception("System.TimeoutException", "The operation has timed out", at: Now.AddMinutes(-3)),
            EventBuilder.Message("Request to payments took 30 s", at: Now.AddMinutes(-2)),
            EventBuilder.Message("User signed in", at: Now.AddMinutes(-1)));

        var byType = (await EventsAsync("TimeoutException")).Items;
        Assert.Equal("System.TimeoutException", byType.Single().ExceptionType);
        var byWord = (await EventsAsync("payments")).Items;
        Assert.Equal("Request to payments took 30 s", byWord.Single().Message);
        var negated = (await EventsAsync("-payments")).Items;
        Assert.Equal(2, negated.Count);

        var first = await EventsAsync(limit: 2);
        Assert.Equal(["User signed in", "Request to payments took 30 s"], first.Items.Select(e => e.Message));
        var second = await EventsAsync(limit: 2, cursor: first.NextCursor);
        Assert.Equal("System.TimeoutException", second.Items.Single().ExceptionType);
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task Event_search_honours_time_range_and_issue_status()
    {
        await WriteAsync(
            EventBuilder.Message("old one", at: Now.AddDays(-3)),
            EventBuilder.Message("new one", at: Now.AddMinutes(-5)));

        Assert.Equal(["new one"], (await EventsAsync("age:-1d")).Items.Select(e => e.Message));
        Assert.Equal(["old one"], (await EventsAsync("age:+1d")).Items.Select(e => e.Message));
        Assert.Equal(2, (await EventsAsync("is:unresolved")).Items.Count);
        Assert.Empty((await EventsAsync("is:resolved")).Items);
    }

    [Fact]
    public async Task A_negated_field_filter_keeps_events_without_that_field()
    {
        await WriteAsync(
            EventBuilder.Message("from production", environment: "production"),
            EventBuilder.Message("from staging", environment: "staging"),
            EventBuilder.Message("from nowhere", environment: null));

        var messages = (await EventsAsync("-environment:production")).Items.Select(e => e.Message).Order(StringComparer.Ordinal);

        Assert.Equal(["from nowhere", "from staging"], messages);
    }

    [Fact]
    public async Task Stored_payload_keeps_the_event_fields()
    {
        var e = EventBuilder.Exception("InvalidOperationException", "Sequence contains no elements", tags: new Dictionary<string, string> { ["browser"] = "Firefox" });
        await WriteAsync(e);

        var stored = await _store.GetEventForUserAsync(_memberId, e.EventId, default);

        Assert.NotNull(stored);
        var payload = EventJson.Deserialize(stored.Payload)!;
        Assert.Equal(e.EventId, payload.EventId);
        Assert.Equal("Firefox", payload.Tags["browser"]);
        Assert.Equal("PlaceOrder", payload.Exceptions.Single().Frames[^1].Function);
        Assert.Equal(EventLevel.Error, stored.Level);
        Assert.Equal("production", stored.Environment);
        Assert.Equal("1.0.0", stored.Release);
    }

    [Fact]
    public async Task A_user_outside_the_organization_sees_nothing()
    {
        var e = EventBuilder.Message("private");
        var issueId = (await WriteAsync(e)).Issues.Single().IssueId;

        Assert.NotNull(await _store.GetProjectForUserAsync(_memberId, _projectId, default));
        Assert.Null(await _store.GetProjectForUserAsync(_outsiderId, _projectId, default));
        Assert.Empty(await _store.ListProjectsForUserAsync(_outsiderId, default));
        Assert.Null(await _store.GetIssueForUserAsync(_outsiderId, issueId, default));
        Assert.Null(await _store.GetEventForUserAsync(_outsiderId, e.EventId, default));
    }

    [Fact]
    public async Task Stats_count_events_per_interval()
    {
        var start = new DateTimeOffset(Now.Year, Now.Month, Now.Day, 0, 0, 0, TimeSpan.Zero).AddDays(-1);
        await WriteAsync(
            EventBuilder.Message("a", at: start.AddMinutes(10)),
            EventBuilder.Message("a", at: start.AddMinutes(20)),
            EventBuilder.Message("b", at: start.AddHours(2).AddMinutes(1)));

        var buckets = await _store.GetEventStatsAsync(_projectId, SearchQuery.Empty, start, start.AddHours(4), TimeSpan.FromHours(1), default);

        Assert.Equal([2L, 0L, 1L, 0L], buckets.Select(b => b.Count));
        Assert.Equal(start.AddHours(2), buckets[2].Start);
        var onlyB = await _store.GetEventStatsAsync(_projectId, QueryParser.Parse("\"b\"", Now), start, start.AddHours(4), TimeSpan.FromHours(1), default);
        Assert.Equal(1, onlyB.Sum(b => b.Count));
    }

    [Fact]
    public async Task Api_tokens_are_found_by_hash_only()
    {
        await _store.CreateApiTokenAsync(_memberId, "ci", "hash-of-token", Now, default);

        var owner = await _store.FindApiTokenAsync("hash-of-token", default);

        Assert.Equal(_memberId, owner!.UserId);
        Assert.Equal("member@acme.test", owner.Email);
        Assert.Null(await _store.FindApiTokenAsync("other-hash", default));
    }

    [Fact]
    public async Task Project_keys_resolve_to_their_project_and_organization()
    {
        var key = await _store.CreateProjectKeyAsync(_projectId, "0123456789abcdef0123456789abcdef", Now, default);

        var found = await _store.FindProjectKeyAsync("0123456789abcdef0123456789abcdef", default);

        Assert.Equal(key.Id, found!.Id);
        Assert.Equal(_projectId, found.ProjectId);
        Assert.Null(found.RevokedAt);
        Assert.Null(await _store.FindProjectKeyAsync("ffffffffffffffffffffffffffffffff", default));
    }
}

public sealed class SqliteStoreContractTests() : StoreContractTests(StoreKind.Sqlite);

public sealed class PostgresStoreContractTests() : StoreContractTests(StoreKind.Postgres);

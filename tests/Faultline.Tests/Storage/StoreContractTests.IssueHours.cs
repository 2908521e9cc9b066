using Faultline.Storage;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Storage;

/// <summary>The hourly issue counts (issue_hours) behind sparklines and issue charts, on both engines.</summary>
public abstract partial class StoreContractTests
{
    [Fact]
    public async Task Hourly_issue_counts_add_up_each_batch_by_hour_and_skip_repeated_ids()
    {
        var hour = IssueHour.HourOf(Now).AddHours(-5);
        var repeated = Guid.NewGuid();
        var first = await WriteAsync(
            EventBuilder.Exception("TimeoutException", "a", at: hour.AddMinutes(1)),
            EventBuilder.Exception("TimeoutException", "b", at: hour.AddMinutes(59)),
            EventBuilder.Exception("TimeoutException", "c", at: hour.AddHours(2).AddSeconds(1), id: repeated),
            EventBuilder.Exception("KeyNotFoundException", "k", function: "LoadCart", at: hour.AddHours(1)));
        await WriteAsync(
            EventBuilder.Exception("TimeoutException", "d", at: hour.AddMinutes(30)),
            EventBuilder.Exception("TimeoutException", "c again", at: hour.AddHours(2).AddSeconds(1), id: repeated),
            EventBuilder.Exception("TimeoutException", "before the range", at: hour.AddHours(-1)));
        var timeout = first.Issues.Single(i => i.NewEvents == 3).IssueId;
        var keyNotFound = first.Issues.Single(i => i.NewEvents == 1).IssueId;

        Assert.Equal(new long[] { 3L, 0, 1, 0 }, await _store.GetIssueHourlyCountsAsync(timeout, hour, 4, default));
        var both = await _store.GetHourlyIssueCountsAsync(_projectId, [timeout, keyNotFound], hour, 3, default);
        Assert.Equal([3L, 0, 1], both[timeout]);
        Assert.Equal([0L, 1, 0], both[keyNotFound]);
        Assert.Equal(new long[] { 1L, 3 }, await _store.GetIssueHourlyCountsAsync(timeout, hour.AddHours(-1), 2, default));
    }

    [Fact]
    public async Task Hourly_counts_are_rebuilt_from_stored_events_by_their_migration_and_old_hours_are_pruned()
    {
        var hour = IssueHour.HourOf(Now).AddHours(-3);
        var written = await WriteAsync(
            EventBuilder.Exception("IOException", "1", at: hour.AddMinutes(5)),
            EventBuilder.Exception("IOException", "2", at: hour.AddMinutes(6)),
            EventBuilder.Exception("IOException", "3", at: hour.AddHours(1).AddMinutes(59)),
            EventBuilder.Exception("IOException", "old", at: Now - IssueHour.KeptFor - TimeSpan.FromDays(1)));
        var issue = written.Issues.Single().IssueId;
        var expected = await _store.GetIssueHourlyCountsAsync(issue, hour, 2, default);
        Assert.Equal([2L, 1], expected);

        // A database from before the table: the migration counts the events already stored.
        await ExecuteAsync("DROP TABLE issue_hours");
        await ExecuteAsync("DELETE FROM schema_migrations WHERE version = 11");
        Assert.Equal([11], await _store.MigrateAsync(default));
        Assert.Equal(expected, await _store.GetIssueHourlyCountsAsync(issue, hour, 2, default));
        var oldHour = IssueHour.HourOf(Now - IssueHour.KeptFor - TimeSpan.FromDays(1));
        Assert.Equal(new long[] { 1L }, await _store.GetIssueHourlyCountsAsync(issue, oldHour, 1, default));

        // Daily maintenance drops hours older than KeptFor and keeps the rest (tomorrow's run: today's ran when the store opened).
        await _store.PrepareAheadAsync(Now.AddDays(1), default);
        Assert.Equal(new long[] { 0L }, await _store.GetIssueHourlyCountsAsync(issue, oldHour, 1, default));
        Assert.Equal(expected, await _store.GetIssueHourlyCountsAsync(issue, hour, 2, default));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}

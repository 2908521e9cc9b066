using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Faultline.Alerts;
using Faultline.Events;
using Faultline.Search;

namespace Faultline.Storage;

/// <summary>Alerts and reports: the same SQL on both engines (upserts and RETURNING exist on both).</summary>
public abstract partial class SqlStoreBase
{
    private const string ChannelColumns = "c.id, c.organization_id, c.name, c.type, c.config, c.secret IS NOT NULL, c.created_at, c.updated_at";

    private const string RuleColumns =
        "r.id, r.project_id, p.organization_id, r.name, r.type, r.enabled, r.threshold, r.window_seconds, r.min_level, r.environment, r.release, r.query, r.cooldown_seconds, r.snoozed_until, r.channel_ids, r.created_at, r.updated_at";

    private const string OutboxColumns =
        "o.id, o.organization_id, o.history_id, o.report_run_id, o.channel_id, o.channel_type, o.payload, o.status, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.delivered_at";

    private const string ReportColumns =
        "s.id, s.organization_id, s.project_id, s.name, s.cron, s.time_zone, s.recipients, s.enabled, s.created_at, s.updated_at";

    private const string MemberOfOrganization = "JOIN memberships m ON m.organization_id = {0} AND m.user_id = @u";

    public async Task<OrganizationRecord?> GetOrganizationForUserAsync(long userId, string slug, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            SELECT o.id, o.slug, o.name, o.created_at FROM organizations o
            JOIN memberships m ON m.organization_id = o.id AND m.user_id = @u WHERE o.slug = @s
            """).With("@u", userId).With("@s", slug);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new OrganizationRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), ReadTime(reader, 3))
            : null;
    }

    public async Task<AlertChannel> CreateChannelAsync(long organizationId, string name, string type, string config, string? secret, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO alert_channels (organization_id, name, type, config, secret, created_at, updated_at)
            VALUES (@o, @n, @t, @c, @s, @now, @now) RETURNING id
            """).With("@o", organizationId).With("@n", name).With("@t", type).With("@c", config).With("@s", secret).With("@now", Db(now));
        var id = await InsertReturningIdAsync(command, cancellationToken);
        return (await ReadChannelsAsync(connection, "WHERE c.id = @id", cancellationToken, ("@id", id)))[0];
    }

    public async Task<AlertChannel?> UpdateChannelAsync(long channelId, string name, string config, string? secret, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "UPDATE alert_channels SET name = @n, config = @c, secret = coalesce(@s, secret), updated_at = @now WHERE id = @id")
            .With("@n", name).With("@c", config).With("@s", secret).With("@now", Db(now)).With("@id", channelId);
        await command.ExecuteNonQueryAsync(cancellationToken);
        var channels = await ReadChannelsAsync(connection, "WHERE c.id = @id", cancellationToken, ("@id", channelId));
        return channels.Count == 0 ? null : channels[0];
    }

    public async Task DeleteChannelAsync(long channelId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("DELETE FROM alert_channels WHERE id = @id").With("@id", channelId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AlertChannel?> GetChannelForUserAsync(long userId, long channelId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var channels = await ReadChannelsAsync(connection,
            string.Format(CultureInfo.InvariantCulture, MemberOfOrganization, "c.organization_id") + " WHERE c.id = @id",
            cancellationToken, ("@u", userId), ("@id", channelId));
        return channels.Count == 0 ? null : channels[0];
    }

    public async Task<IReadOnlyList<AlertChannel>> ListChannelsAsync(long organizationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadChannelsAsync(connection, "WHERE c.organization_id = @o ORDER BY c.id", cancellationToken, ("@o", organizationId));
    }

    public async Task<(AlertChannel Channel, string? Secret)?> GetChannelWithSecretAsync(long channelId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var channels = await ReadChannelsAsync(connection, "WHERE c.id = @id", cancellationToken, ("@id", channelId));
        if (channels.Count == 0)
        {
            return null;
        }
        await using var command = connection.Command("SELECT secret FROM alert_channels WHERE id = @id").With("@id", channelId);
        var secret = await command.ExecuteScalarAsync(cancellationToken);
        return (channels[0], secret as string);
    }

    private async Task<List<AlertChannel>> ReadChannelsAsync(DbConnection connection, string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.Command($"SELECT {ChannelColumns} FROM alert_channels c {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var channels = new List<AlertChannel>();
        while (await reader.ReadAsync(cancellationToken))
        {
            channels.Add(new AlertChannel(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetBoolean(5), ReadTime(reader, 6), ReadTime(reader, 7)));
        }
        return channels;
    }

    public async Task<AlertRule> CreateRuleAsync(long projectId, AlertRuleDraft draft, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO alert_rules (project_id, name, type, enabled, threshold, window_seconds, min_level, environment, release, query,
                cooldown_seconds, snoozed_until, channel_ids, created_at, updated_at)
            VALUES (@p, @n, @t, @e, @th, @w, @l, @env, @rel, @q, @cd, @sn, @ch, @now, @now) RETURNING id
            """).With("@p", projectId).With("@now", Db(now));
        WithRuleDraft(command, draft);
        var id = await InsertReturningIdAsync(command, cancellationToken);
        return (await ReadRulesAsync(connection, "WHERE r.id = @id", cancellationToken, ("@id", id)))[0];
    }

    public async Task<AlertRule?> UpdateRuleAsync(long ruleId, AlertRuleDraft draft, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            UPDATE alert_rules SET name = @n, type = @t, enabled = @e, threshold = @th, window_seconds = @w, min_level = @l,
                environment = @env, release = @rel, query = @q, cooldown_seconds = @cd, snoozed_until = @sn, channel_ids = @ch, updated_at = @now
            WHERE id = @id
            """).With("@id", ruleId).With("@now", Db(now));
        WithRuleDraft(command, draft);
        await command.ExecuteNonQueryAsync(cancellationToken);
        var rules = await ReadRulesAsync(connection, "WHERE r.id = @id", cancellationToken, ("@id", ruleId));
        return rules.Count == 0 ? null : rules[0];
    }

    private void WithRuleDraft(DbCommand command, AlertRuleDraft draft) => command
        .With("@n", draft.Name).With("@t", RuleTypeName(draft.Type)).With("@e", draft.Enabled)
        .With("@th", (long?)draft.Threshold).With("@w", (long?)draft.WindowSeconds).With("@l", draft.MinLevel is { } level ? (long)level : null)
        .With("@env", draft.Environment).With("@rel", draft.Release).With("@q", draft.Query).With("@cd", (long)draft.CooldownSeconds)
        .With("@sn", draft.SnoozedUntil is { } snoozed ? Db(snoozed) : null).With("@ch", JsonSerializer.Serialize(draft.ChannelIds));

    public async Task DeleteRuleAsync(long ruleId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command(
            "DELETE FROM alert_cooldowns WHERE rule_id = @id; DELETE FROM alert_rules WHERE id = @id").With("@id", ruleId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AlertRule?> GetRuleForUserAsync(long userId, long ruleId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var rules = await ReadRulesAsync(connection,
            string.Format(CultureInfo.InvariantCulture, MemberOfOrganization, "p.organization_id") + " WHERE r.id = @id",
            cancellationToken, ("@u", userId), ("@id", ruleId));
        return rules.Count == 0 ? null : rules[0];
    }

    public async Task<IReadOnlyList<AlertRule>> ListRulesAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadRulesAsync(connection, "WHERE r.project_id = @p ORDER BY r.id", cancellationToken, ("@p", projectId));
    }

    public async Task<IReadOnlyList<AlertRule>> ListEnabledRulesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadRulesAsync(connection, "WHERE r.enabled = @e ORDER BY r.id", cancellationToken, ("@e", true));
    }

    private async Task<List<AlertRule>> ReadRulesAsync(DbConnection connection, string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.Command($"SELECT {RuleColumns} FROM alert_rules r JOIN projects p ON p.id = r.project_id {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rules = new List<AlertRule>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var draft = new AlertRuleDraft(
                reader.GetString(3), ParseRuleType(reader.GetString(4)), reader.GetBoolean(5),
                (int?)reader.NullableInt64(6), (int?)reader.NullableInt64(7), reader.NullableInt64(8) is { } level ? (EventLevel)level : null,
                reader.NullableString(9), reader.NullableString(10), reader.NullableString(11), (int)reader.GetInt64(12),
                ReadNullableTime(reader, 13), JsonSerializer.Deserialize<long[]>(reader.GetString(14)) ?? []);
            rules.Add(new AlertRule(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), draft, ReadTime(reader, 15), ReadTime(reader, 16)));
        }
        return rules;
    }

    public static string RuleTypeName(AlertRuleType type) => type switch
    {
        AlertRuleType.Threshold => "threshold",
        AlertRuleType.NewIssue => "new_issue",
        AlertRuleType.Regression => "regression",
        _ => "issue_frequency",
    };

    public static AlertRuleType ParseRuleType(string name) => name switch
    {
        "threshold" => AlertRuleType.Threshold,
        "new_issue" => AlertRuleType.NewIssue,
        "regression" => AlertRuleType.Regression,
        "issue_frequency" => AlertRuleType.IssueFrequency,
        _ => throw new InvalidOperationException($"Unknown rule type '{name}' in the store."),
    };

    public async Task<long?> TryFireAsync(AlertFiring firing, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The upsert updates only when the last firing is old enough: whoever gets a row back owns this firing.
        // A test notification ignores and does not move the cooldown.
        if (!firing.IsTest)
        {
            await using var claim = connection.Command("""
                INSERT INTO alert_cooldowns (rule_id, issue_id, last_fired_at) VALUES (@r, @i, @now)
                ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired_at = excluded.last_fired_at
                WHERE alert_cooldowns.last_fired_at <= @cutoff
                RETURNING rule_id
                """, transaction).With("@r", firing.RuleId).With("@i", firing.IssueId).With("@now", Db(firing.Now)).With("@cutoff", Db(firing.CooldownCutoff));
            if (await claim.ExecuteScalarAsync(cancellationToken) is null)
            {
                await transaction.RollbackAsync(cancellationToken);
                return null;
            }
        }
        long historyId;
        await using (var history = connection.Command("""
            INSERT INTO alert_history (rule_id, project_id, issue_id, fired_at, reason, is_test) VALUES (@r, @p, @i, @now, @why, @test) RETURNING id
            """, transaction).With("@r", firing.RuleId).With("@p", firing.ProjectId).With("@i", firing.IssueId == 0 ? null : firing.IssueId)
            .With("@now", Db(firing.Now)).With("@why", firing.Reason).With("@test", firing.IsTest))
        {
            historyId = await InsertReturningIdAsync(history, cancellationToken);
        }
        await InsertOutboxAsync(connection, transaction, firing.OrganizationId, historyId, null, firing.Messages, firing.Now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return historyId;
    }

    private async Task InsertOutboxAsync(DbConnection connection, DbTransaction? transaction, long organizationId, long? historyId, long? reportRunId,
        IReadOnlyList<OutboxMessage> messages, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            await using var insert = connection.Command("""
                INSERT INTO alert_outbox (organization_id, history_id, report_run_id, channel_id, channel_type, payload, status, attempts, next_attempt_at, created_at)
                VALUES (@o, @h, @run, @c, @t, @body, @pending, @zero, @now, @now)
                """, transaction).With("@o", organizationId).With("@h", historyId).With("@run", reportRunId).With("@c", message.ChannelId)
                .With("@t", message.ChannelType).With("@body", message.Payload).With("@pending", OutboxStatus.Pending).With("@zero", 0L).With("@now", Db(now));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task QueueOutboxAsync(long organizationId, long? reportRunId, IReadOnlyList<OutboxMessage> messages, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await InsertOutboxAsync(connection, transaction, organizationId, null, reportRunId, messages, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AlertHistoryEntry>> ListHistoryAsync(long ruleId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var entries = new List<(long Id, long RuleId, long ProjectId, long? IssueId, DateTimeOffset FiredAt, string Reason, bool IsTest)>();
        await using (var command = connection.Command(
            "SELECT id, rule_id, project_id, issue_id, fired_at, reason, is_test FROM alert_history WHERE rule_id = @r ORDER BY fired_at DESC, id DESC LIMIT @n")
            .With("@r", ruleId).With("@n", limit))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.NullableInt64(3), ReadTime(reader, 4), reader.GetString(5), reader.GetBoolean(6)));
            }
        }
        var deliveries = new List<OutboxEntry>();
        if (entries.Count > 0)
        {
            var filter = new SqlFilter(SearchDialect);
            filter.Add($"o.history_id IN ({string.Join(", ", entries.Select(e => filter.Parameter(e.Id)))})");
            await using var command = connection.Command($"SELECT {OutboxColumns} FROM alert_outbox o WHERE {filter.Where} ORDER BY o.id");
            filter.ApplyTo(command);
            deliveries = await ReadOutboxAsync(command, cancellationToken);
        }
        return entries.Select(e => new AlertHistoryEntry(e.Id, e.RuleId, e.ProjectId, e.IssueId, e.FiredAt, e.Reason, e.IsTest,
            deliveries.Where(d => d.HistoryId == e.Id).ToList())).ToList();
    }

    public async Task<IReadOnlyList<RecentEvent>> ListRecentEventsAsync(long projectId, long? issueId, SearchQuery query, EventLevel? minLevel, DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        var filter = new SqlFilter(SearchDialect);
        filter.Add($"e.project_id = {filter.Parameter(projectId)}");
        if (issueId is { } issue)
        {
            filter.Add($"e.issue_id = {filter.Parameter(issue)}");
        }
        if (minLevel is { } level)
        {
            filter.Add($"e.level >= {filter.Parameter((int)level)}");
        }
        filter.Add($"e.received_at >= {filter.Parameter(Db(since))}");
        filter.AddEventConditions(query with { Since = null, Until = null }, "e");
        var top = filter.Parameter(limit);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT e.event_id, e.received_at FROM events e WHERE {filter.Where} ORDER BY e.received_at DESC LIMIT {top}");
        filter.ApplyTo(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<RecentEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RecentEvent(ReadEventId(reader, 0), ReadTime(reader, 1)));
        }
        return events;
    }

    public async Task<IReadOnlyList<OutboxEntry>> ClaimDueOutboxAsync(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        // The outer WHERE repeats the condition: on PostgreSQL a row another node leased meanwhile is
        // re-checked after its lock is released and then skipped, so no row goes to two nodes.
        await using var command = connection.Command($"""
            UPDATE alert_outbox SET locked_until = @lease
            WHERE id IN (SELECT id FROM alert_outbox WHERE status = @pending AND next_attempt_at <= @now
                         AND (locked_until IS NULL OR locked_until <= @now) ORDER BY next_attempt_at, id LIMIT @n)
              AND status = @pending AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING {OutboxColumns.Replace("o.", "", StringComparison.Ordinal)}
            """).With("@lease", Db(leaseUntil)).With("@pending", OutboxStatus.Pending).With("@now", Db(now)).With("@n", limit);
        var claimed = await ReadOutboxAsync(command, cancellationToken);
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    public async Task CompleteOutboxAsync(long id, string status, int attempts, DateTimeOffset nextAttemptAt, string? error, DateTimeOffset? deliveredAt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            UPDATE alert_outbox SET status = @s, attempts = @a, next_attempt_at = @next, last_error = @err, delivered_at = @at, locked_until = NULL WHERE id = @id
            """).With("@s", status).With("@a", (long)attempts).With("@next", Db(nextAttemptAt)).With("@err", error)
            .With("@at", deliveredAt is { } at ? Db(at) : null).With("@id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<OutboxEntry>> ListOutboxAsync(long organizationId, string? status, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var statusCondition = status is null ? "" : " AND o.status = @s";
        await using var command = connection.Command(
            $"SELECT {OutboxColumns} FROM alert_outbox o WHERE o.organization_id = @o{statusCondition} ORDER BY o.id DESC LIMIT @n")
            .With("@o", organizationId).With("@n", limit);
        if (status is not null)
        {
            command.With("@s", status);
        }
        return await ReadOutboxAsync(command, cancellationToken);
    }

    private async Task<List<OutboxEntry>> ReadOutboxAsync(DbCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<OutboxEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new OutboxEntry(reader.GetInt64(0), reader.GetInt64(1), reader.NullableInt64(2), reader.NullableInt64(3), reader.NullableInt64(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), (int)reader.GetInt64(8), ReadTime(reader, 9), reader.NullableString(10),
                ReadTime(reader, 11), ReadNullableTime(reader, 12)));
        }
        return entries;
    }

    public async Task<JiraLink?> GetJiraLinkAsync(long channelId, long issueId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("SELECT jira_key, jira_url FROM jira_links WHERE channel_id = @c AND issue_id = @i")
            .With("@c", channelId).With("@i", issueId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new JiraLink(channelId, issueId, reader.GetString(0), reader.GetString(1)) : null;
    }

    public async Task SaveJiraLinkAsync(JiraLink link, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO jira_links (channel_id, issue_id, jira_key, jira_url, created_at) VALUES (@c, @i, @k, @u, @now)
            ON CONFLICT (channel_id, issue_id) DO NOTHING
            """).With("@c", link.ChannelId).With("@i", link.IssueId).With("@k", link.Key).With("@u", link.Url).With("@now", Db(now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IssueRecord?> GetIssueAsync(long issueId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {IssueColumns} FROM issues i WHERE i.id = @id").With("@id", issueId);
        var issues = await ReadIssuesAsync(command, cancellationToken);
        return issues.Count == 0 ? null : issues[0];
    }

    public async Task<ProjectRecord?> GetProjectAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var projects = await ReadProjectsAsync(connection, "WHERE p.id = @p", cancellationToken, ("@p", projectId));
        return projects.Count == 0 ? null : projects[0];
    }

    public async Task<IReadOnlyList<ProjectRecord>> ListOrganizationProjectsAsync(long organizationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadProjectsAsync(connection, "WHERE p.organization_id = @o ORDER BY p.slug", cancellationToken, ("@o", organizationId));
    }

    public async Task<ReportSchedule> CreateReportAsync(long organizationId, ReportScheduleDraft draft, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO report_schedules (organization_id, project_id, name, cron, time_zone, recipients, enabled, created_at, updated_at)
            VALUES (@o, @p, @n, @c, @z, @r, @e, @now, @now) RETURNING id
            """).With("@o", organizationId).With("@now", Db(now));
        WithReportDraft(command, draft);
        var id = await InsertReturningIdAsync(command, cancellationToken);
        return (await ReadReportsAsync(connection, "WHERE s.id = @id", cancellationToken, ("@id", id)))[0];
    }

    public async Task<ReportSchedule?> UpdateReportAsync(long reportId, ReportScheduleDraft draft, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            UPDATE report_schedules SET project_id = @p, name = @n, cron = @c, time_zone = @z, recipients = @r, enabled = @e, updated_at = @now WHERE id = @id
            """).With("@id", reportId).With("@now", Db(now));
        WithReportDraft(command, draft);
        await command.ExecuteNonQueryAsync(cancellationToken);
        var reports = await ReadReportsAsync(connection, "WHERE s.id = @id", cancellationToken, ("@id", reportId));
        return reports.Count == 0 ? null : reports[0];
    }

    private static void WithReportDraft(DbCommand command, ReportScheduleDraft draft) => command
        .With("@p", draft.ProjectId).With("@n", draft.Name).With("@c", draft.Cron).With("@z", draft.TimeZone)
        .With("@r", JsonSerializer.Serialize(draft.Recipients)).With("@e", draft.Enabled);

    public async Task DeleteReportAsync(long reportId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("DELETE FROM report_schedules WHERE id = @id").With("@id", reportId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ReportSchedule?> GetReportForUserAsync(long userId, long reportId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var reports = await ReadReportsAsync(connection,
            string.Format(CultureInfo.InvariantCulture, MemberOfOrganization, "s.organization_id") + " WHERE s.id = @id",
            cancellationToken, ("@u", userId), ("@id", reportId));
        return reports.Count == 0 ? null : reports[0];
    }

    public async Task<IReadOnlyList<ReportSchedule>> ListReportsAsync(long organizationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadReportsAsync(connection, "WHERE s.organization_id = @o ORDER BY s.id", cancellationToken, ("@o", organizationId));
    }

    public async Task<IReadOnlyList<ReportSchedule>> ListEnabledReportsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadReportsAsync(connection, "WHERE s.enabled = @e ORDER BY s.id", cancellationToken, ("@e", true));
    }

    private async Task<List<ReportSchedule>> ReadReportsAsync(DbConnection connection, string tail, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.Command($"SELECT {ReportColumns} FROM report_schedules s {tail}");
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var reports = new List<ReportSchedule>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var draft = new ReportScheduleDraft(reader.GetString(3), reader.NullableInt64(2), reader.GetString(4), reader.GetString(5),
                JsonSerializer.Deserialize<string[]>(reader.GetString(6)) ?? [], reader.GetBoolean(7));
            reports.Add(new ReportSchedule(reader.GetInt64(0), reader.GetInt64(1), draft, ReadTime(reader, 8), ReadTime(reader, 9)));
        }
        return reports;
    }

    public async Task<long?> TryClaimReportRunAsync(long scheduleId, DateTimeOffset periodEnd, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command("""
            INSERT INTO report_runs (schedule_id, period_end, created_at) VALUES (@s, @end, @now)
            ON CONFLICT (schedule_id, period_end) DO NOTHING RETURNING id
            """).With("@s", scheduleId).With("@end", Db(periodEnd)).With("@now", Db(now));
        var id = await command.ExecuteScalarAsync(cancellationToken);
        return id is null or DBNull ? null : Convert.ToInt64(id, CultureInfo.InvariantCulture);
    }

    public async Task<long> CountEventsAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (projectIds.Count == 0)
        {
            return 0;
        }
        var filter = PeriodFilter("e", "received_at", projectIds, since, until);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT count(*) FROM events e WHERE {filter.Where}");
        filter.ApplyTo(command);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<IssueCount>> ListTopIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        if (projectIds.Count == 0)
        {
            return [];
        }
        var filter = PeriodFilter("e", "received_at", projectIds, since, until);
        var top = filter.Parameter(limit);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        var counts = new List<(long IssueId, long Count)>();
        await using (var command = connection.Command(
            $"SELECT e.issue_id, count(*) AS n FROM events e WHERE {filter.Where} GROUP BY e.issue_id ORDER BY n DESC, e.issue_id LIMIT {top}"))
        {
            filter.ApplyTo(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }
        var result = new List<IssueCount>();
        foreach (var (issueId, count) in counts)
        {
            await using var select = connection.Command($"SELECT {IssueColumns} FROM issues i WHERE i.id = @id").With("@id", issueId);
            var issues = await ReadIssuesAsync(select, cancellationToken);
            if (issues.Count > 0)
            {
                result.Add(new IssueCount(issues[0], count));
            }
        }
        return result;
    }

    public Task<IReadOnlyList<IssueRecord>> ListNewIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        ListIssuesInPeriodAsync("first_seen", projectIds, since, until, limit, cancellationToken);

    public Task<IReadOnlyList<IssueRecord>> ListRegressedIssuesAsync(IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken) =>
        ListIssuesInPeriodAsync("regressed_at", projectIds, since, until, limit, cancellationToken);

    private async Task<IReadOnlyList<IssueRecord>> ListIssuesInPeriodAsync(string column, IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        if (projectIds.Count == 0)
        {
            return [];
        }
        var filter = PeriodFilter("i", column, projectIds, since, until);
        var top = filter.Parameter(limit);
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {IssueColumns} FROM issues i WHERE {filter.Where} ORDER BY i.times_seen DESC, i.id LIMIT {top}");
        filter.ApplyTo(command);
        return await ReadIssuesAsync(command, cancellationToken);
    }

    // Only fixed column names reach the SQL text; values are parameters.
    private SqlFilter PeriodFilter(string alias, string column, IReadOnlyList<long> projectIds, DateTimeOffset since, DateTimeOffset until)
    {
        var filter = new SqlFilter(SearchDialect);
        filter.Add($"{alias}.project_id IN ({string.Join(", ", projectIds.Select(p => filter.Parameter(p)))})");
        filter.Add($"{alias}.{column} >= {filter.Parameter(Db(since))} AND {alias}.{column} < {filter.Parameter(Db(until))}");
        return filter;
    }
}

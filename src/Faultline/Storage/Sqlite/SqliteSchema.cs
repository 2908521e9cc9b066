namespace Faultline.Storage.Sqlite;

/// <summary>
/// Versioned schema for SQLite. Append new versions; never edit an applied one. Each feature owns a
/// range of version numbers (core 1-9, dashboard/accounts 10-19, alerts 20-29, retention 30-39,
/// docker 40-49, operations 50-59) so features developed side by side never collide; versions are
/// applied in ascending order and each one once.
/// </summary>
internal static class SqliteSchema
{
    // Timestamps are Unix microseconds (INTEGER): they sort and compare exactly, unlike text forms,
    // and keep PostgreSQL's precision so both engines answer alike.
    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            CREATE TABLE organizations (
                id INTEGER PRIMARY KEY,
                slug TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE users (
                id INTEGER PRIMARY KEY,
                email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                password_hash TEXT NOT NULL,
                is_admin INTEGER NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE TABLE memberships (
                organization_id INTEGER NOT NULL REFERENCES organizations(id),
                user_id INTEGER NOT NULL REFERENCES users(id),
                role TEXT NOT NULL,
                PRIMARY KEY (organization_id, user_id));
            CREATE INDEX ix_memberships_user ON memberships (user_id);
            CREATE TABLE projects (
                id INTEGER PRIMARY KEY,
                organization_id INTEGER NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                slug TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (organization_id, slug));
            CREATE TABLE project_keys (
                id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                public_key TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER,
                rate_limit_per_second REAL);
            CREATE TABLE api_tokens (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id),
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                last_used_at INTEGER,
                revoked_at INTEGER);
            CREATE TABLE issues (
                id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                fingerprint TEXT NOT NULL,
                title TEXT NOT NULL,
                culprit TEXT,
                level INTEGER NOT NULL,
                status INTEGER NOT NULL DEFAULT 0,
                regressed INTEGER NOT NULL DEFAULT 0,
                reviewed INTEGER NOT NULL DEFAULT 0,
                times_seen INTEGER NOT NULL,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                resolved_at INTEGER,
                regressed_at INTEGER,
                UNIQUE (project_id, fingerprint));
            CREATE INDEX ix_issues_last_seen ON issues (project_id, last_seen DESC, id DESC);
            CREATE INDEX ix_issues_first_seen ON issues (project_id, first_seen DESC, id DESC);
            CREATE INDEX ix_issues_times_seen ON issues (project_id, times_seen DESC, id DESC);
            CREATE TABLE events (
                row_id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL,
                event_id TEXT NOT NULL,
                issue_id INTEGER NOT NULL,
                received_at INTEGER NOT NULL,
                timestamp INTEGER NOT NULL,
                level INTEGER NOT NULL,
                environment TEXT,
                release TEXT,
                logger TEXT,
                message TEXT,
                exception_type TEXT,
                exception_value TEXT,
                tags TEXT NOT NULL,
                payload TEXT NOT NULL,
                -- event_id first: the same index dedups per project and finds an event by id alone.
                UNIQUE (event_id, project_id));
            CREATE INDEX ix_events_project_time ON events (project_id, timestamp DESC, event_id DESC);
            CREATE INDEX ix_events_issue_time ON events (issue_id, timestamp DESC, event_id DESC);
            CREATE INDEX ix_events_level ON events (project_id, level, timestamp);
            CREATE INDEX ix_events_environment ON events (project_id, environment, timestamp);
            CREATE INDEX ix_events_release ON events (project_id, release, timestamp);
            CREATE INDEX ix_events_received ON events (received_at);
            -- Full-text index over message and exception, kept in step with events by triggers (the insert trigger is replaced in 41).
            CREATE VIRTUAL TABLE events_fts USING fts5(
                message, exception_type, exception_value,
                content='events', content_rowid='row_id', tokenize='unicode61');
            CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
                INSERT INTO events_fts (rowid, message, exception_type, exception_value)
                VALUES (new.row_id, new.message, new.exception_type, new.exception_value);
            END;
            CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
                INSERT INTO events_fts (events_fts, rowid, message, exception_type, exception_value)
                VALUES ('delete', old.row_id, old.message, old.exception_type, old.exception_value);
            END;
            """),
        // Dashboard (10-14). session_version is in every session cookie; changing the password bumps it, which ends the user's other sessions.
        (10, """
            ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;
            """),
        // Events per issue and UTC hour of their timestamp (microseconds at the hour's start), added with each
        // stored batch: sparklines and issue charts read these rows instead of counting events (IssueHour).
        (11, """
            CREATE TABLE issue_hours (
                issue_id INTEGER NOT NULL,
                hour INTEGER NOT NULL,
                events INTEGER NOT NULL,
                PRIMARY KEY (issue_id, hour)) WITHOUT ROWID;
            INSERT INTO issue_hours (issue_id, hour, events)
                SELECT issue_id, timestamp - (timestamp % 3600000000), count(*) FROM events GROUP BY 1, 2;
            """),
        // Accounts (15-19): the settings pages list a project's keys and a user's tokens.
        (15, """
            CREATE INDEX ix_project_keys_project ON project_keys (project_id);
            CREATE INDEX ix_api_tokens_user ON api_tokens (user_id);
            """),
        (30, """
            -- Retention (docs/retention.md). keep_until_reviewed: the issue's events stay hot until it is reviewed or resolved.
            ALTER TABLE issues ADD COLUMN keep_until_reviewed INTEGER NOT NULL DEFAULT 0;
            -- Set on events brought back from the archive; the sweep removes them again later.
            ALTER TABLE events ADD COLUMN restored_at INTEGER;
            CREATE INDEX ix_events_restored ON events (restored_at) WHERE restored_at IS NOT NULL;
            CREATE TABLE retention_policies (
                scope TEXT NOT NULL,
                scope_id INTEGER NOT NULL,
                hot_days INTEGER NOT NULL,
                archive_days INTEGER NOT NULL,
                keep_unreviewed INTEGER NOT NULL,
                keep_minimum_level INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (scope, scope_id));
            -- The sweep's state machine: one row per archive object (project, UTC day, sequence).
            CREATE TABLE archive_batches (
                id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                day TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                state INTEGER NOT NULL,
                object_key TEXT NOT NULL,
                manifest_key TEXT NOT NULL,
                event_count INTEGER,
                uncompressed_bytes INTEGER,
                bytes INTEGER,
                sha256 TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (project_id, day, sequence));
            CREATE TABLE retention_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL);
            """),
        (20, """
            -- Alerts (docs/alerts.md). Channels belong to an organization and are shared by its rules;
            -- secret holds the credential (webhook signing key, Slack webhook URL, Jira API token): written, never returned.
            CREATE TABLE alert_channels (
                id INTEGER PRIMARY KEY,
                organization_id INTEGER NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                config TEXT NOT NULL,
                secret TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE INDEX ix_alert_channels_org ON alert_channels (organization_id);
            CREATE TABLE alert_rules (
                id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                threshold INTEGER,
                window_seconds INTEGER,
                min_level INTEGER,
                environment TEXT,
                release TEXT,
                query TEXT,
                cooldown_seconds INTEGER NOT NULL,
                snoozed_until INTEGER,
                channel_ids TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE INDEX ix_alert_rules_project ON alert_rules (project_id);
            -- One row per (rule, issue) that fired (issue 0 for rule-wide): the cooldown survives restarts
            -- and the conditional upsert lets only one evaluator claim a firing.
            CREATE TABLE alert_cooldowns (
                rule_id INTEGER NOT NULL,
                issue_id INTEGER NOT NULL,
                last_fired_at INTEGER NOT NULL,
                PRIMARY KEY (rule_id, issue_id));
            CREATE TABLE alert_history (
                id INTEGER PRIMARY KEY,
                rule_id INTEGER NOT NULL,
                project_id INTEGER NOT NULL,
                issue_id INTEGER,
                fired_at INTEGER NOT NULL,
                reason TEXT NOT NULL,
                is_test INTEGER NOT NULL);
            CREATE INDEX ix_alert_history_rule ON alert_history (rule_id, fired_at DESC);
            -- The durable outbox: a notification is a row before it is a request.
            CREATE TABLE alert_outbox (
                id INTEGER PRIMARY KEY,
                organization_id INTEGER NOT NULL,
                history_id INTEGER,
                report_run_id INTEGER,
                channel_id INTEGER,
                channel_type TEXT NOT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                locked_until INTEGER,
                last_error TEXT,
                created_at INTEGER NOT NULL,
                delivered_at INTEGER);
            CREATE INDEX ix_alert_outbox_due ON alert_outbox (status, next_attempt_at);
            CREATE INDEX ix_alert_outbox_history ON alert_outbox (history_id);
            CREATE TABLE jira_links (
                channel_id INTEGER NOT NULL,
                issue_id INTEGER NOT NULL,
                jira_key TEXT NOT NULL,
                jira_url TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (channel_id, issue_id));
            CREATE TABLE report_schedules (
                id INTEGER PRIMARY KEY,
                organization_id INTEGER NOT NULL REFERENCES organizations(id),
                project_id INTEGER REFERENCES projects(id),
                name TEXT NOT NULL,
                cron TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                recipients TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
            -- The unique (schedule, period) row is the lease: one node sends each period once.
            CREATE TABLE report_runs (
                id INTEGER PRIMARY KEY,
                schedule_id INTEGER NOT NULL,
                period_end INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (schedule_id, period_end));
            """),
        (40, """
            -- Docker log streams (docs/docker.md): one row per project and container name. critical is set
            -- through the API; awaiting_review is set when kept (critical) lines arrived since the last review.
            CREATE TABLE log_streams (
                id INTEGER PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id),
                name TEXT NOT NULL,
                container_id TEXT,
                image TEXT,
                host TEXT,
                source TEXT,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                events INTEGER NOT NULL,
                errors INTEGER NOT NULL,
                critical INTEGER NOT NULL DEFAULT 0,
                awaiting_review INTEGER NOT NULL DEFAULT 0,
                reviewed_at INTEGER,
                UNIQUE (project_id, name));
            -- The issues a stream's events went to: what a review releases.
            CREATE TABLE log_stream_issues (
                stream_id INTEGER NOT NULL,
                issue_id INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                PRIMARY KEY (stream_id, issue_id));
            CREATE INDEX ix_log_stream_issues_issue ON log_stream_issues (issue_id);
            """),
        // The full-text index is filled by the writers, one statement per write (SqliteStore.TextIndexInsertSql):
        // through the per-row trigger FTS5 wrote and merged one index segment per event.
        (41, """
            DROP TRIGGER IF EXISTS events_fts_insert;
            """),
    ];
}

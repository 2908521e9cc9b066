namespace Faultline.Storage.Postgres;

/// <summary>
/// Versioned schema for PostgreSQL. Append new versions; never edit an applied one. Each feature owns a
/// range of version numbers (core 1-9, dashboard/accounts 10-19, alerts 20-29, retention 30-39,
/// docker 40-49, operations 50-59) so features developed side by side never collide; versions are
/// applied in ascending order and each one once.
/// </summary>
internal static class PostgresSchema
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Migrations =
    [
        (1, """
            CREATE TABLE organizations (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                slug text NOT NULL UNIQUE,
                name text NOT NULL,
                created_at timestamptz NOT NULL);
            CREATE TABLE users (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email text NOT NULL UNIQUE,
                password_hash text NOT NULL,
                is_admin boolean NOT NULL,
                created_at timestamptz NOT NULL);
            CREATE TABLE memberships (
                organization_id bigint NOT NULL REFERENCES organizations(id),
                user_id bigint NOT NULL REFERENCES users(id),
                role text NOT NULL,
                PRIMARY KEY (organization_id, user_id));
            CREATE INDEX ix_memberships_user ON memberships (user_id);
            CREATE TABLE projects (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES organizations(id),
                name text NOT NULL,
                slug text NOT NULL,
                created_at timestamptz NOT NULL,
                UNIQUE (organization_id, slug));
            CREATE TABLE project_keys (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects(id),
                public_key text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL,
                revoked_at timestamptz,
                rate_limit_per_second double precision);
            CREATE TABLE api_tokens (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                user_id bigint NOT NULL REFERENCES users(id),
                name text NOT NULL,
                token_hash text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL,
                last_used_at timestamptz,
                revoked_at timestamptz);
            CREATE TABLE issues (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects(id),
                fingerprint text NOT NULL,
                title text NOT NULL,
                culprit text,
                level smallint NOT NULL,
                status smallint NOT NULL DEFAULT 0,
                regressed boolean NOT NULL DEFAULT false,
                reviewed boolean NOT NULL DEFAULT false,
                times_seen bigint NOT NULL,
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                resolved_at timestamptz,
                regressed_at timestamptz,
                UNIQUE (project_id, fingerprint));
            CREATE INDEX ix_issues_last_seen ON issues (project_id, last_seen DESC, id DESC);
            CREATE INDEX ix_issues_first_seen ON issues (project_id, first_seen DESC, id DESC);
            CREATE INDEX ix_issues_times_seen ON issues (project_id, times_seen DESC, id DESC);

            -- Event ids are unique per project across all partitions; a partitioned table cannot
            -- enforce that itself, so this small table does. It also finds an event by id alone:
            -- project, received_at and timestamp lead to one partition and one index entry.
            CREATE TABLE event_ids (
                event_id uuid NOT NULL,
                project_id bigint NOT NULL,
                received_at timestamptz NOT NULL,
                timestamp timestamptz NOT NULL,
                PRIMARY KEY (event_id, project_id));

            CREATE TABLE events (
                project_id bigint NOT NULL,
                event_id uuid NOT NULL,
                issue_id bigint NOT NULL,
                received_at timestamptz NOT NULL,
                timestamp timestamptz NOT NULL,
                level smallint NOT NULL,
                environment text,
                release text,
                logger text,
                message text,
                exception_type text,
                exception_value text,
                tags jsonb NOT NULL,
                payload jsonb NOT NULL,
                -- Built by the writer (SearchVector): words of message and exception type/value,
                -- split at punctuation so System.TimeoutException is found by "TimeoutException".
                -- Computing it in PostgreSQL with regexp_replace cost about 40 us per row.
                search tsvector NOT NULL
            ) PARTITION BY RANGE (received_at);
            -- Rows outside every daily partition land here rather than fail the batch.
            CREATE TABLE events_default PARTITION OF events DEFAULT;
            CREATE INDEX ix_events_project_time ON events (project_id, timestamp DESC, event_id DESC);
            CREATE INDEX ix_events_issue_time ON events (issue_id, timestamp DESC, event_id DESC);
            CREATE INDEX ix_events_level ON events (project_id, level, timestamp);
            CREATE INDEX ix_events_environment ON events (project_id, environment, timestamp);
            CREATE INDEX ix_events_release ON events (project_id, release, timestamp);
            CREATE INDEX ix_events_search ON events USING gin (search);
            CREATE INDEX ix_events_tags ON events USING gin (tags jsonb_path_ops);
            """),
        // Dashboard (10-14). session_version is in every session cookie; changing the password bumps it, which ends the user's other sessions.
        (10, """
            ALTER TABLE users ADD COLUMN session_version integer NOT NULL DEFAULT 0;
            """),
        // Events per issue and UTC hour of their timestamp, added with each stored batch: sparklines and
        // issue charts read these rows instead of counting events (IssueHour).
        (11, """
            CREATE TABLE issue_hours (
                issue_id bigint NOT NULL,
                hour timestamptz NOT NULL,
                events bigint NOT NULL,
                PRIMARY KEY (issue_id, hour));
            INSERT INTO issue_hours (issue_id, hour, events)
                SELECT issue_id, date_trunc('hour', timestamp, 'UTC'), count(*) FROM events GROUP BY 1, 2;
            """),
        // Accounts (15-19): the settings pages list a project's keys and a user's tokens.
        (15, """
            CREATE INDEX ix_project_keys_project ON project_keys (project_id);
            CREATE INDEX ix_api_tokens_user ON api_tokens (user_id);
            """),
        (30, """
            -- Retention (docs/retention.md). keep_until_reviewed: the issue's events stay hot until it is reviewed or resolved.
            ALTER TABLE issues ADD COLUMN keep_until_reviewed boolean NOT NULL DEFAULT false;
            -- Set on events brought back from the archive; the sweep removes them again later.
            ALTER TABLE events ADD COLUMN restored_at timestamptz;
            CREATE INDEX ix_events_restored ON events (restored_at) WHERE restored_at IS NOT NULL;
            CREATE TABLE retention_policies (
                scope text NOT NULL,
                scope_id bigint NOT NULL,
                hot_days integer NOT NULL,
                archive_days integer NOT NULL,
                keep_unreviewed boolean NOT NULL,
                keep_minimum_level smallint NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (scope, scope_id));
            -- The sweep's state machine: one row per archive object (project, UTC day, sequence).
            CREATE TABLE archive_batches (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects(id),
                day text NOT NULL,
                sequence integer NOT NULL,
                state integer NOT NULL,
                object_key text NOT NULL,
                manifest_key text NOT NULL,
                event_count bigint,
                uncompressed_bytes bigint,
                bytes bigint,
                sha256 text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                UNIQUE (project_id, day, sequence));
            CREATE TABLE retention_leases (
                name text PRIMARY KEY,
                holder text NOT NULL,
                expires_at timestamptz NOT NULL);
            """),
        (20, """
            -- Alerts (docs/alerts.md). Channels belong to an organization and are shared by its rules;
            -- secret holds the credential (webhook signing key, Slack webhook URL, Jira API token): written, never returned.
            CREATE TABLE alert_channels (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES organizations(id),
                name text NOT NULL,
                type text NOT NULL,
                config text NOT NULL,
                secret text,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE INDEX ix_alert_channels_org ON alert_channels (organization_id);
            CREATE TABLE alert_rules (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects(id),
                name text NOT NULL,
                type text NOT NULL,
                enabled boolean NOT NULL,
                threshold bigint,
                window_seconds bigint,
                min_level bigint,
                environment text,
                release text,
                query text,
                cooldown_seconds bigint NOT NULL,
                snoozed_until timestamptz,
                channel_ids text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL);
            CREATE INDEX ix_alert_rules_project ON alert_rules (project_id);
            -- One row per (rule, issue) that fired (issue 0 for rule-wide): the cooldown survives restarts
            -- and the conditional upsert lets only one evaluator claim a firing.
            CREATE TABLE alert_cooldowns (
                rule_id bigint NOT NULL,
                issue_id bigint NOT NULL,
                last_fired_at timestamptz NOT NULL,
                PRIMARY KEY (rule_id, issue_id));
            CREATE TABLE alert_history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                rule_id bigint NOT NULL,
                project_id bigint NOT NULL,
                issue_id bigint,
                fired_at timestamptz NOT NULL,
                reason text NOT NULL,
                is_test boolean NOT NULL);
            CREATE INDEX ix_alert_history_rule ON alert_history (rule_id, fired_at DESC);
            -- The durable outbox: a notification is a row before it is a request.
            CREATE TABLE alert_outbox (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL,
                history_id bigint,
                report_run_id bigint,
                channel_id bigint,
                channel_type text NOT NULL,
                payload text NOT NULL,
                status text NOT NULL,
                attempts bigint NOT NULL,
                next_attempt_at timestamptz NOT NULL,
                locked_until timestamptz,
                last_error text,
                created_at timestamptz NOT NULL,
                delivered_at timestamptz);
            CREATE INDEX ix_alert_outbox_due ON alert_outbox (status, next_attempt_at);
            CREATE INDEX ix_alert_outbox_history ON alert_outbox (history_id);
            CREATE TABLE jira_links (
                channel_id bigint NOT NULL,
                issue_id bigint NOT NULL,
                jira_key text NOT NULL,
                jira_url text NOT NULL,
                created_at timestamptz NOT NULL,
                PRIMARY KEY (channel_id, issue_id));
            CREATE TABLE report_schedules (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id bigint NOT NULL REFERENCES organizations(id),
                project_id bigint REFERENCES projects(id),
                name text NOT NULL,
                cron text NOT NULL,
                time_zone text NOT NULL,
                recipients text NOT NULL,
                enabled boolean NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL);
            -- The unique (schedule, period) row is the lease: one node sends each period once.
            CREATE TABLE report_runs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                schedule_id bigint NOT NULL,
                period_end timestamptz NOT NULL,
                created_at timestamptz NOT NULL,
                UNIQUE (schedule_id, period_end));
            """),
        (40, """
            -- Docker log streams (docs/docker.md): one row per project and container name. critical is set
            -- through the API; awaiting_review is set when kept (critical) lines arrived since the last review.
            CREATE TABLE log_streams (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES projects(id),
                name text NOT NULL,
                container_id text,
                image text,
                host text,
                source text,
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                events bigint NOT NULL,
                errors bigint NOT NULL,
                critical boolean NOT NULL DEFAULT false,
                awaiting_review boolean NOT NULL DEFAULT false,
                reviewed_at timestamptz,
                UNIQUE (project_id, name));
            -- The issues a stream's events went to: what a review releases.
            CREATE TABLE log_stream_issues (
                stream_id bigint NOT NULL,
                issue_id bigint NOT NULL,
                last_seen timestamptz NOT NULL,
                PRIMARY KEY (stream_id, issue_id));
            CREATE INDEX ix_log_stream_issues_issue ON log_stream_issues (issue_id);
            """),
    ];
}

-- A login for Grafana's PostgreSQL data source that reads only what the dashboards query: no users,
-- password hashes or API-token hashes. Idempotent: deploy/compose.yaml runs it (service
-- grafana-reader) at every `up` after Faultline has migrated, with psql -v pw=PASSWORD.
-- The events partitions need no grant: reading through the parent table checks the parent only.
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') AS create_role \gset
\if :create_role
CREATE ROLE grafana_reader LOGIN;
\endif
ALTER ROLE grafana_reader PASSWORD :'pw';
GRANT CONNECT ON DATABASE :"DBNAME" TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON organizations, projects, issues, events TO grafana_reader;

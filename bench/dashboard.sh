#!/usr/bin/env bash
# Dashboard benchmark (issue 5) on PostgreSQL: seeds 100k issues and 1M events, signs in like a
# browser and times the server render of the issues, issue detail and events pages, then times
# the live tail (/api/v1/live) from each event's 202 to its arrival at 1,000 events/s.
# Prints a Markdown block for bench/RESULTS.md. See bench/README.md.
#   bench/dashboard.sh [--events 1000000] [--issues 100000] [--repetitions 50] [--rate 1000] [--live-seconds 30]
#                      [--keep DIR | --reuse DIR]   (keep the seeded cluster in DIR / start from one kept earlier)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
events=1000000; issues=100000; repetitions=50; rate=1000; live_seconds=30; keep=""; reuse=""
command_line="bench/dashboard.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --issues) issues=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --live-seconds) live_seconds=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --reuse) reuse=$2; shift 2 ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
log() { echo "==> $*" >&2; }

run_dir="$out/dashboard-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
pg_dir=${reuse:-${keep:-$run_dir/postgres}}
server_pid=""
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  fi
  "$root/scripts/postgres.sh" stop "$pg_dir" || true
  if [ -z "$keep" ] && [ -z "$reuse" ]; then rm -rf "$pg_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1; }

log "publishing the server and the load generator (Release)"
dotnet publish "$root/src/Faultline" -c Release -o "$out/server" --nologo -v quiet >&2
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2
bench() { dotnet "$out/bench/faultline-bench.dll" "$@"; }

if [ -n "$reuse" ]; then
  log "starting the kept cluster in $reuse"
  chown -R postgres:postgres "$reuse" 2>/dev/null || true
  port=$(free_port)
  su postgres -s /bin/bash -c "'$bindir/pg_ctl' -D '$reuse/data' -l '$reuse/server.log' -w -o \"-p $port -k '$reuse' -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB\" start" >&2
  conn="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
else
  log "starting PostgreSQL in $pg_dir"
  conn=$("$root/scripts/postgres.sh" start "$pg_dir")
fi

port=$(free_port)
url="http://127.0.0.1:$port"
env_vars=(
  "Faultline__Storage__Provider=postgres"
  "Faultline__Storage__Postgres__ConnectionString=$conn"
  "Faultline__Ingest__RateLimit__EventsPerSecond=1000000000"
  "Faultline__Ingest__RateLimit__Burst=1000000000"
  "Faultline__PublicUrl=$url"
  "Logging__LogLevel__Default=Warning"
  "DOTNET_CLI_TELEMETRY_OPTOUT=1"
)
faultline() { env "${env_vars[@]}" dotnet "$out/server/faultline.dll" "$@"; }
password='bench-password-1'
if [ -z "$reuse" ]; then
  faultline create-user --email bench@example.com --password "$password" --admin --json >/dev/null
  faultline create-project --org bench --name bench --json | grep '^{' | tail -n 1 >"$pg_dir/project.json"
fi
# A fresh token on every run (tokens are shown once).
token=$(faultline create-token --email bench@example.com --json | grep '^{' | tail -n 1 | json_field token)
key=$(json_field publicKey <"$pg_dir/project.json")
project=$(json_field projectId <"$pg_dir/project.json")
[ -n "$token" ] && [ -n "$key" ] || { echo "could not create the user, token or project" >&2; exit 1; }

log "starting the server on $url"
# env execs dotnet, so $! is the server itself (a backgrounded shell function would leave it running).
env "${env_vars[@]}" dotnet "$out/server/faultline.dll" --urls "$url" >"$run_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$url/healthz" >/dev/null || { tail -n 40 "$run_dir/server.log" >&2; exit 1; }

if [ -z "$reuse" ]; then
  # Most events spread over all issues; a tenth go to one issue, so there is a large issue to open.
  large=$((events / 10))
  log "seeding $((events - large)) events over 7 days in $issues distinct errors"
  bench seed --url "$url" --key "$key" --events "$((events - large))" --distinct "$issues" --json >"$run_dir/seed1.json"
  log "seeding $large events of one error"
  bench seed --url "$url" --key "$key" --events "$large" --distinct 1 --seed 1000 --json >"$run_dir/seed2.json"
  sleep 5
  # Autovacuum would get to the freshly seeded rows within minutes; vacuum now so every run measures
  # the same state (visibility map set: index-only scans skip the table) instead of racing it.
  log "VACUUM ANALYZE after seeding"
  "$bindir/psql" "host=127.0.0.1 port=$(echo "$conn" | sed -n 's/.*Port=\([0-9]*\).*/\1/p') user=postgres dbname=postgres" -q -c 'VACUUM ANALYZE' >&2
fi
counts=$("$bindir/psql" "host=127.0.0.1 port=$(echo "$conn" | sed -n 's/.*Port=\([0-9]*\).*/\1/p') user=postgres dbname=postgres" -At -F ' ' \
  -c 'SELECT (SELECT count(*) FROM issues), (SELECT count(*) FROM events)')
read -r issue_count event_count <<<"$counts"

echo "### $(date -u '+%Y-%m-%d %H:%M') UTC: dashboard pages and live tail (issue 5)"
echo
echo "- Machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Command: \`$command_line\` (PostgreSQL, $issue_count issues, $event_count events over 7 days, VACUUM ANALYZE after seeding; client and server on 127.0.0.1)"
echo "- Pages: signed in with the session cookie, sequential GETs, 3 unmeasured warm-ups then $repetitions each; time to the last byte of the server-rendered HTML."
echo
bench pages --url "$url" --token "$token" --project "$project" --email bench@example.com --password "$password" --repetitions "$repetitions" || pages_rc=$?
echo
echo "- Live tail: one WebSocket subscriber of \`/api/v1/live?project=$project\` (API token) while events are posted one per request in open loop at $rate/s for 5 s of warm-up and $live_seconds s measured; latency from reading the 202 to the event's arrival on the socket; an event not received 5 s after the last 202 counts as missing."
echo
bench live --url "$url" --token "$token" --project "$project" --key "$key" --rate "$rate" --duration "$live_seconds" --warmup 5 || live_rc=$?
echo
echo "- Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
log "server log: $run_dir/server.log"
exit $(( ${pages_rc:-0} + ${live_rc:-0} > 0 ? 3 : 0 ))

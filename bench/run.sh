#!/usr/bin/env bash
# Benchmarks Faultline ingest (and, with --with-queries, search) on SQLite and PostgreSQL, each
# from a fresh store, and prints a Markdown block for bench/RESULTS.md. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]
  --stores "sqlite postgres"  stores to run, in order (default: both)
  --duration S                measured seconds per ingest run (default 20)
  --warmup S                  warm-up seconds before each ingest run (default 5)
  --server-warmup S           unmeasured native ingest (S s) and Sentry ingest (S/2 s) on each fresh
                              server before the first measured run (default 60; 0 skips it)
  --concurrency N             connections for the closed-loop runs (default 64)
  --batch N                   events per request (default 1)
  --gzip                      gzip every request body
  --pause S                   idle seconds between runs, so queued work drains (default 5)
  --with-queries              PostgreSQL only: seed events, then time the search queries
  --seed-events N             events to seed for the queries (default 1000000)
  --seed-distinct N           distinct errors among the seeded events (default 5000)
  --repetitions N             repetitions per query (default 50)
  --server-dir DIR            use an already published server (faultline.dll) instead of building
  --keep                      keep the run directory (stores, logs) under bench/.out/
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
stores="sqlite postgres"; duration=20; warmup=5; server_warmup=60; concurrency=64; batch=1; gzip=(); pause=5
with_queries=0; seed_events=1000000; seed_distinct=5000; repetitions=50; server_dir=""; keep=0
command_line="bench/run.sh $*"

while [ $# -gt 0 ]; do
  case "$1" in
    --stores) stores=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --server-warmup) server_warmup=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --gzip) gzip=(--gzip); shift ;;
    --pause) pause=$2; shift 2 ;;
    --with-queries) with_queries=1; shift ;;
    --seed-events) seed_events=$2; shift 2 ;;
    --seed-distinct) seed_distinct=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --server-dir) server_dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "==> $*" >&2; }

run_dir="$out/run-$(date -u +%Y%m%d-%H%M%S)"
results="$run_dir/results.jsonl"
mkdir -p "$run_dir"
: >"$results"

server_pid=""
bench_pid=""
pg_dir=""

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

stop_postgres() {
  if [ -n "$pg_dir" ]; then
    "$root/scripts/postgres.sh" stop "$pg_dir" || true
  fi
  pg_dir=""
}

cleanup() {
  local rc=$?
  if [ -n "$bench_pid" ]; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  stop_server
  stop_postgres
  if [ "$keep" = 0 ] && [ "$rc" = 0 ]; then
    # Keep the table and the raw figures; drop stores and server data.
    find "$run_dir" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} + 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || shuf -i 20000-40000 -n 1
}

# Reads one string or number field from the single-line JSON the CLI prints.
json_field() {
  sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1
}

# ---- build -------------------------------------------------------------------------------
if [ -z "$server_dir" ]; then
  server_dir="$out/server"
  log "publishing the server (Release) to $server_dir"
  dotnet publish "$root/src/Faultline" -c Release -o "$server_dir" --nologo -v quiet >&2
fi
log "publishing the load generator to $out/bench"
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2
bench() { dotnet "$out/bench/faultline-bench.dll" "$@"; }

# Runs one measurement in the background and waits for it, so that Ctrl-C or a TERM reaches the
# trap at once instead of after the run; appends its JSON line to the results either way.
# Events the server newly stored so far (duplicates excluded), from its /metrics.
stored_events() { curl -s -m 5 "$1/metrics" | awk '/^faultline_events_stored_total/ { s += $2 } END { printf "%d", s }'; }

measure() {
  local step=$1; shift
  local rc=0 before after acknowledged
  before=$(stored_events "$url")
  dotnet "$out/bench/faultline-bench.dll" "$@" >"$run_dir/step.json" &
  bench_pid=$!
  wait "$bench_pid" || rc=$?
  bench_pid=""
  cat "$run_dir/step.json" >>"$results"
  [ "$rc" = 0 ] || log "$step: the load generator exited with $rc (failed run or non-2xx answers)"
  # A run must store what it measures: acknowledged duplicates (ids sent before) cost the server
  # only a lookup and would flatter the figures.
  after=$(stored_events "$url")
  acknowledged=$(sed -n 's/.*"mode":"ingest".*"target":"\(native\|sentry\)".*"events":\([0-9]*\),.*/\2/p' "$run_dir/step.json")
  if [ -n "$acknowledged" ]; then
    log "$step: stored $((after - before)) new events; $acknowledged acknowledged in the measured window"
    [ $((after - before)) -ge "$acknowledged" ] || log "$step: WARNING: fewer events stored than acknowledged (duplicates were measured)"
  fi
}
server_dll="$server_dir/faultline.dll"
[ -f "$server_dll" ] || { echo "no $server_dll" >&2; exit 1; }

# ---- one store -------------------------------------------------------------------------
run_store() {
  local store=$1 port url key project token="" conn=""
  port=$(free_port)
  url="http://127.0.0.1:$port"
  local env_vars=(
    "Faultline__Storage__Provider=$store"
    "Faultline__Ingest__RateLimit__EventsPerSecond=1000000000"
    "Faultline__Ingest__RateLimit__Burst=1000000000"
    "Faultline__Bench__DiscardEndpoint=true"
    "Faultline__PublicUrl=$url"
    "Logging__LogLevel__Default=Warning"
    "DOTNET_CLI_TELEMETRY_OPTOUT=1"
  )
  case "$store" in
    sqlite)
      mkdir -p "$run_dir/sqlite"
      env_vars+=("Faultline__Storage__Sqlite__Path=$run_dir/sqlite/faultline.db") ;;
    postgres)
      pg_dir="$run_dir/postgres"
      log "starting PostgreSQL in $pg_dir"
      conn=$("$root/scripts/postgres.sh" start "$pg_dir")
      env_vars+=("Faultline__Storage__Postgres__ConnectionString=$conn") ;;
    *) echo "unknown store: $store" >&2; exit 2 ;;
  esac
  faultline() { env "${env_vars[@]}" dotnet "$server_dll" "$@"; }

  # On SQLite the CLI must run before the server holds the database; do the same everywhere.
  # The admin user comes first: an administrator is made a member of organizations created after it.
  if [ "$with_queries" = 1 ] && [ "$store" = postgres ]; then
    log "[$store] creating the admin user and an API token"
    faultline create-user --email bench@example.com --password 'bench-password-1' --admin --json >/dev/null
    token=$(faultline create-token --email bench@example.com --json | grep '^{' | tail -n 1 | json_field token)
    [ -n "$token" ] || { echo "create-token printed no token" >&2; exit 1; }
  fi
  log "[$store] creating the project"
  local project_json
  project_json=$(faultline create-project --org bench --name bench --json | grep '^{' | tail -n 1)
  key=$(echo "$project_json" | json_field publicKey)
  project=$(echo "$project_json" | json_field projectId)
  [ -n "$key" ] || { echo "create-project printed no publicKey: $project_json" >&2; exit 1; }

  log "[$store] starting the server on $url"
  env "${env_vars[@]}" dotnet "$server_dll" --urls "$url" >"$run_dir/$store-server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "the server exited; its log:" >&2; tail -n 40 "$run_dir/$store-server.log" >&2; exit 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/" || true)
    [ "$code" != "000" ] && break
    sleep 0.2
  done
  sleep 3
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited after start; its log:" >&2; tail -n 40 "$run_dir/$store-server.log" >&2; exit 1
  fi
  local idle_kb
  idle_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
  echo "{\"mode\":\"idle\",\"label\":\"$store\",\"rss_kb\":$idle_kb}" >>"$results"
  log "[$store] idle RSS $((idle_kb / 1024)) MiB"

  local common=(--url "$url" --key "$key" --server-pid "$server_pid" --label "$store" --json
                --duration "$duration" --warmup "$warmup" --batch "$batch" "${gzip[@]}")

  # The server's JIT tiers its code up (with dynamic PGO) over its first minute or more under load:
  # measured from a cold start, native ingest on SQLite rose from about 1,200 to 6,800 events/s over
  # eight 9-second runs. Load it unmeasured first, so every measured run sees a server at full speed.
  if [ "$server_warmup" -gt 0 ]; then
    log "[$store] warming the server up: ${server_warmup} s native, $((server_warmup / 2)) s Sentry (not measured)"
    bench ingest "${common[@]}" --target native --concurrency "$concurrency" --warmup 0 --duration "$server_warmup" >/dev/null 2>&1 || true
    bench ingest --url "$url" --key "$key" --project "$project" --server-pid "$server_pid" --label "$store" --json \
      --warmup 0 --duration "$((server_warmup / 2))" --target sentry --concurrency "$concurrency" >/dev/null 2>&1 || true
    sleep "$pause"
  fi

  log "[$store] discard ceiling: $concurrency connections"
  measure "[$store] discard" ingest "${common[@]}" --target discard --concurrency "$concurrency"
  sleep "$pause"

  log "[$store] native ingest: $concurrency connections"
  local peak half
  measure "[$store] native" ingest "${common[@]}" --target native --concurrency "$concurrency"
  peak=$(sed -n 's/.*"events_per_second":\([0-9.]*\).*/\1/p' "$run_dir/step.json")
  sleep "$pause"

  log "[$store] Sentry envelope ingest (gzip, as the .NET SDK sends): $concurrency connections"
  measure "[$store] sentry" ingest --url "$url" --key "$key" --project "$project" --server-pid "$server_pid" --label "$store" --json \
    --duration "$duration" --warmup "$warmup" --target sentry --concurrency "$concurrency"
  sleep "$pause"

  half=$(awk -v p="${peak:-0}" 'BEGIN { printf "%d", p / 2 }')
  if [ "$half" -gt 0 ]; then
    log "[$store] native ingest at half of peak: $half events/s (open loop)"
    measure "[$store] half of peak" ingest "${common[@]}" --target native --concurrency "$concurrency" --rate "$half"
  else
    log "[$store] native ingest accepted nothing: skipping the half-load run"
  fi

  if [ "$with_queries" = 1 ] && [ "$store" = postgres ]; then
    sleep "$pause"
    log "[$store] seeding $seed_events events over 7 days ($seed_distinct distinct errors)"
    measure "[$store] seed" seed --url "$url" --key "$key" --server-pid "$server_pid" --label "$store" --json \
      --events "$seed_events" --distinct "$seed_distinct"
    sleep "$pause"
    log "[$store] timing queries ($repetitions repetitions each)"
    measure "[$store] queries" query --url "$url" --token "$token" --project "$project" \
      --repetitions "$repetitions" --label "$store" --json
  fi

  stop_server
  stop_postgres
}

for store in $stores; do
  run_store "$store"
done

log "results: $results"
bench table --input "$results" --command "$command_line" | tee "$run_dir/results.md"

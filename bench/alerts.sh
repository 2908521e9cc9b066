#!/usr/bin/env bash
# Alert benchmark (issue 6): notification latency (202 of the event crossing a threshold rule to its
# webhook arriving at a local receiver) and native ingest throughput alternating between 0 and 50
# rules (after an unmeasured warm-up run: 0, 50, 0, 50, 0, 50, 0 with 3 rounds), on a fresh store; prints a Markdown block for bench/RESULTS.md.
#   bench/alerts.sh [--store sqlite|postgres] [--firings 20] [--rounds 3] [--duration 10]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
store=sqlite; firings=20; duration=10; rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --firings) firings=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: bench/alerts.sh [--store sqlite|postgres] [--firings N] [--rounds N] [--duration S]" >&2; exit 2 ;;
  esac
done
run_dir="$out/alerts-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
server_pid=""; pg_dir=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_dir" ]; then "$root/scripts/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" | head -n 1; }

dotnet publish "$root/src/Faultline" -c Release -o "$out/server" --nologo -v quiet >&2
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2

port=$(free_port)
url="http://127.0.0.1:$port"
env_vars=(
  "Faultline__Storage__Provider=$store"
  "Faultline__Ingest__RateLimit__EventsPerSecond=1000000000"
  "Faultline__Ingest__RateLimit__Burst=1000000000"
  "Faultline__PublicUrl=$url"
  "Logging__LogLevel__Default=Warning"
)
case "$store" in
  sqlite) mkdir -p "$run_dir/sqlite"; env_vars+=("Faultline__Storage__Sqlite__Path=$run_dir/sqlite/faultline.db") ;;
  postgres) pg_dir="$run_dir/postgres"; env_vars+=("Faultline__Storage__Postgres__ConnectionString=$("$root/scripts/postgres.sh" start "$pg_dir")") ;;
  *) echo "unknown store: $store" >&2; exit 2 ;;
esac
faultline() { env "${env_vars[@]}" dotnet "$out/server/faultline.dll" "$@"; }

# The user first: the organization created next makes it its owner.
faultline create-user --email bench@example.com --password 'bench-password-1' --json >/dev/null
project_json=$(faultline create-project --org bench --name bench --owner bench@example.com --json | grep '^{' | tail -n 1)
key=$(echo "$project_json" | field publicKey)
project=$(echo "$project_json" | field projectId)
token=$(faultline create-token --email bench@example.com --json | grep '^{' | tail -n 1 | field token)
[ -n "$key" ] && [ -n "$token" ] || { echo "could not create the project and token: $project_json" >&2; exit 1; }

env "${env_vars[@]}" dotnet "$out/server/faultline.dll" --urls "$url" >"$run_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
sleep 2

load=$(cut -d' ' -f1-3 /proc/loadavg)
json=$(dotnet "$out/bench/faultline-bench.dll" alerts --url "$url" --token "$token" --key "$key" --org bench --project "$project" \
  --firings "$firings" --rounds "$rounds" --duration "$duration" --warmup 5 --concurrency 64 --server-pid "$server_pid")
echo "$json" >"$run_dir/result.json"
num() { echo "$json" | sed -n "s/.*\"$1\":\\([-0-9.]*\\).*/\\1/p" | head -n 1; }
list() { echo "$json" | sed -n "s/.*\"$1\":\\[\\([^]]*\\)\\].*/\\1/p" | head -n 1 | sed 's/,/, /g'; }

echo "### $(date -u '+%Y-%m-%d %H:%M') UTC: alert notification latency and the cost of 50 rules (issue 6)"
echo
echo "- Machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average before the run: $load"
echo "- Command: \`bench/alerts.sh --store $store --firings $firings --rounds $rounds --duration $duration\` ($store store, rate limit lifted, client, server and webhook receiver on 127.0.0.1)"
echo
echo "| Figure | Value |"
echo "|---|--:|"
echo "| Firings delivered / missed | $(num delivered) / $(num missed) |"
echo "| 202 of the crossing event → webhook arrives, p50 | $(num p50) ms |"
echo "| same, p95 | $(num p95) ms |"
echo "| same, max | $(num max) ms |"
echo "| Native ingest (64 connections, ${duration} s runs), 0 rules: mean of $((rounds + 1)) runs | $(num zero_rules_mean) events/s ($(list zero_rules_runs)) |"
echo "| Native ingest, 50 rules: mean of $rounds runs in between | $(num with_rules_mean) events/s ($(list with_rules_runs)) |"
echo "| Each 50-rule run / mean of the 0-rule runs around it | $(list ratios_to_neighbours) |"
echo "| Cost of 50 rules (1 - mean of those ratios) | $(num cost_percent) % |"
echo "| Evaluator batches dropped during the 50-rule run | $(num evaluator_batches_dropped_with_rules) |"
echo
echo "Raw: \`$json\`"

#!/usr/bin/env bash
# Paired comparison of published servers on SQLite: for each server directory, in turn, a fresh store,
# unmeasured native ingest, then native ingest in closed loop and in open loop at --rate. Runs one after
# the other in one invocation, so that a change is compared with its base on the machine's speed of the
# moment (it varies from day to day here by a factor of two). See bench/README.md.
#   bench/compare.sh [--rate EVENTS_PER_S] [--warm S] [--rounds N] DIR [DIR...]
# DIR is a `dotnet publish -c Release` output of src/Faultline. Prints the load generator's summaries.
set -euo pipefail

rate=4000; warm=60; rounds=1; dirs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --warm) warm=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -*) echo "unknown option: $1" >&2; exit 2 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
[ ${#dirs[@]} -gt 0 ] || { echo "usage: bench/compare.sh [--rate N] [--warm S] [--rounds N] DIR [DIR...]" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2
server_pid=""; work=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; [ -n "$work" ] && rm -rf "$work"; true; }
trap cleanup EXIT

run_one() {
  local dir=$1 port url key
  work=$(mktemp -d "$out/compare.XXXX")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  local env_vars=(Faultline__Storage__Provider=sqlite "Faultline__Storage__Sqlite__Path=$work/faultline.db"
    Faultline__Ingest__RateLimit__EventsPerSecond=1000000000 Faultline__Ingest__RateLimit__Burst=1000000000
    "Faultline__PublicUrl=$url" Logging__LogLevel__Default=Warning)
  key=$(env "${env_vars[@]}" dotnet "$dir/faultline.dll" create-project --org bench --name bench --json \
    | grep '^{' | sed -n 's/.*"publicKey":"\([^"]*\)".*/\1/p')
  env "${env_vars[@]}" dotnet "$dir/faultline.dll" --urls "$url" >"$work/server.log" 2>&1 &
  server_pid=$!
  sleep 6
  local ingest=(dotnet "$out/bench/faultline-bench.dll" ingest --url "$url" --key "$key" --server-pid "$server_pid"
    --label sqlite --target native --concurrency 64)
  "${ingest[@]}" --warmup 0 --duration "$warm" >/dev/null 2>&1
  echo "== $dir: closed loop"
  "${ingest[@]}" --warmup 3 --duration 20 2>&1 | grep -E "accepted|ack latency"
  sleep 3
  echo "== $dir: open loop at $rate events/s"
  "${ingest[@]}" --warmup 3 --duration 20 --rate "$rate" 2>&1 | grep -E "accepted|ack latency"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -rf "$work"; work=""
}

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
for _ in $(seq 1 "$rounds"); do
  for dir in "${dirs[@]}"; do run_one "$dir"; done
done

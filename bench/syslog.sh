#!/usr/bin/env bash
# Syslog ingest benchmark (issue 8): the same log lines as RFC 5424 over TCP (1 and 16 connections)
# and as native JSON events over HTTP, on a fresh SQLite store; prints a Markdown block for RESULTS.md.
#   bench/syslog.sh [--lines N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
lines=${2:-100000}
[ "${1:-}" = "--lines" ] || lines=100000
run_dir="$out/syslog-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir/sqlite"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dotnet publish "$root/src/Faultline" -c Release -o "$out/server" --nologo -v quiet >&2
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2

port=$(free_port); syslog_port=$(free_port)
url="http://127.0.0.1:$port"
env_vars=(
  "Faultline__Storage__Provider=sqlite"
  "Faultline__Storage__Sqlite__Path=$run_dir/sqlite/faultline.db"
  "Faultline__Ingest__RateLimit__EventsPerSecond=1000000000"
  "Faultline__Ingest__RateLimit__Burst=1000000000"
  "Faultline__PublicUrl=$url"
  "Logging__LogLevel__Default=Warning"
)
key=$(env "${env_vars[@]}" dotnet "$out/server/faultline.dll" create-project --org bench --name bench --json | grep '^{' | tail -n 1 \
  | sed -n 's/.*"publicKey":"\([^"]*\)".*/\1/p')
[ -n "$key" ] || { echo "create-project printed no key" >&2; exit 1; }
env "${env_vars[@]}" \
  "Faultline__Docker__Listeners__bench__Protocol=SyslogTcp" \
  "Faultline__Docker__Listeners__bench__Port=$syslog_port" \
  "Faultline__Docker__Listeners__bench__ProjectKey=$key" \
  dotnet "$out/server/faultline.dll" --urls "$url" >"$run_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
sleep 2

echo "### $(date -u '+%Y-%m-%d %H:%M') UTC: syslog over TCP vs native ingest (issue 8)"
echo
echo "- Machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Command: \`bench/syslog.sh --lines $lines\` (SQLite store, rate limit lifted, client and server on 127.0.0.1)"
echo
dotnet "$out/bench/faultline-bench.dll" syslog --url "$url" --key "$key" --port "$syslog_port" --lines "$lines" --connections 1,16 --native-batches 1,100

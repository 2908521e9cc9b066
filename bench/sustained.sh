#!/usr/bin/env bash
# Sustained native ingest on a fresh SQLite store, sampled every 5 s: accepted events/s, how busy the
# batching writer was, machine CPU, and what the disk holding the store wrote. Shows when ingest stops
# being CPU-bound and becomes writer-bound (docs/architecture.md, SQLite). Not a RESULTS.md block.
#   bench/sustained.sh [SECONDS (default 60)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/.out"
seconds=${1:-60}
run_dir="$out/sustained-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
server_pid=""; load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "==> publishing the server and the load generator" >&2
dotnet publish "$root/src/Faultline" -c Release -o "$out/server" --nologo -v quiet >&2
dotnet publish "$root/bench/Faultline.Bench" -c Release -o "$out/bench" --nologo -v quiet >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export Faultline__Storage__Provider=sqlite Faultline__Storage__Sqlite__Path="$run_dir/faultline.db"
export Faultline__Ingest__RateLimit__EventsPerSecond=1000000000 Faultline__Ingest__RateLimit__Burst=1000000000
export Faultline__PublicUrl="$url" Logging__LogLevel__Default=Warning
key=$(dotnet "$out/server/faultline.dll" create-project --org bench --name bench --json | grep '^{' | tail -n 1 \
  | sed -n 's/.*"publicKey":"\([^"]*\)".*/\1/p')
dotnet "$out/server/faultline.dll" --urls "$url" >"$run_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz" || true)" = 200 ] && break
  sleep 0.2
done

# The block device under the store (diskstats name), for the written MB/s.
device=$(basename "$(df --output=source "$run_dir" | tail -n 1)")
disk() { awk -v d="$device" '$3 == d { print $10, $8 }' /proc/diskstats; }
cpu() { head -n 1 /proc/stat | awk '{ print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8 }'; }
writer() {
  curl -s -m 2 "$url/metrics" | awk '/^faultline_writer_batch_size_sum/ { e = $2 }
    /^faultline_writer_batch_size_count/ { b = $2 } /^faultline_writer_commit_duration_seconds_sum/ { s = $2 }
    END { printf "%d %d %f\n", e, b, s }'
}

dotnet "$out/bench/faultline-bench.dll" ingest --url "$url" --key "$key" --target native --concurrency 64 \
  --warmup 0 --duration "$seconds" >"$run_dir/load.txt" 2>&1 &
load_pid=$!
read -r e0 b0 s0 < <(writer); read -r sectors0 writes0 < <(disk); read -r busy0 total0 < <(cpu)
printf '%-8s %9s %7s %12s %6s %10s %10s\n' time events/s batch writer_busy cpu disk_MB/s disk_w/s
for _ in $(seq 1 $((seconds / 5))); do
  sleep 5
  read -r e1 b1 s1 < <(writer); read -r sectors1 writes1 < <(disk); read -r busy1 total1 < <(cpu)
  awk -v t="$(date -u +%T)" -v e=$((e1 - e0)) -v b=$((b1 - b0)) -v s="$s0" -v s1="$s1" \
      -v sec=$((sectors1 - sectors0)) -v w=$((writes1 - writes0)) -v cb=$((busy1 - busy0)) -v ct=$((total1 - total0)) \
    'BEGIN { printf "%-8s %9d %7.1f %11.0f%% %5.0f%% %10.0f %10d\n", t, e / 5, (b ? e / b : 0), (s1 - s) / 5 * 100,
             (ct ? 100 * cb / ct : 0), sec * 512 / 5 / 1048576, w / 5 }'
  e0=$e1; b0=$b1; s0=$s1; sectors0=$sectors1; writes0=$writes1; busy0=$busy1; total0=$total1
done
wait "$load_pid" || true
load_pid=""
grep -E 'accepted|ack latency' "$run_dir/load.txt" || true
echo "database file: $(du -m "$run_dir/faultline.db" | cut -f1) MB" >&2

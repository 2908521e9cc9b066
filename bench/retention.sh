#!/usr/bin/env bash
# The retention sweep's rate and its effect on concurrent ingest, unthrottled and throttled, on
# SQLite and on a throwaway PostgreSQL cluster. Prints Markdown rows for bench/RESULTS.md.
#   bench/retention.sh [--stores "sqlite postgres"] [--events N] [--seconds S] [--work-share X] [--chunk N]
# See bench/RESULTS.md, "Retention sweep (issue 7)".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
stores="sqlite postgres"; events=150000; seconds=10; share=0.25; chunk=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --stores) stores=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --work-share) share=$2; shift 2 ;;
    --chunk) chunk=$2; shift 2 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/faultline-retention-bench.XXXXXX)
chmod 755 "$work" # the PostgreSQL cluster under it runs as the postgres user
pg_started=0
cleanup() {
  if [ "$pg_started" = 1 ]; then "$root/scripts/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Built into the run's own folder, so a rebuild of the tree during a run cannot replace its assemblies.
dotnet build "$root/bench/Faultline.RetentionBench" -c Release -nologo -v quiet -o "$work/bin" >&2
bench="$work/bin/faultline-retention-bench.dll"

echo "| Store | Events per sweep | Work share | Sweep alone, events/s | Sweep during ingest, events/s | Ingest alone, events/s | Ingest during sweep, events/s | Ingest kept | Archive bytes per event |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for store in $stores; do
  args=(--store "$store" --events "$events" --seconds "$seconds" --work-share "$share" --chunk "$chunk" --dir "$work/$store")
  if [ "$store" = postgres ]; then
    cs=$("$root/scripts/postgres.sh" start "$work/pg"); pg_started=1
    args+=(--connection "$cs")
  fi
  dotnet "$bench" "${args[@]}"
  if [ "$store" = postgres ]; then "$root/scripts/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true; pg_started=0; fi
done

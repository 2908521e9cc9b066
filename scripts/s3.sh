#!/usr/bin/env bash
# Starts or stops a throwaway S3-compatible server (npm s3rver) for tests and benchmarks.
#   scripts/s3.sh start DIR   -> prints the endpoint URL on stdout (bucket: faultline-test)
#   scripts/s3.sh stop DIR
# s3rver is installed from tests/tools/package.json (its lock file pins it) with npm ci. It does not
# check signatures, so any access key works. See docs/retention.md for the AWSSDK.S3 chunked-upload trap.
set -euo pipefail

cmd=${1:?usage: s3.sh start|stop DIR}
dir=${2:?usage: s3.sh start|stop DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/tests/tools"
bucket=faultline-test

case "$cmd" in
  start)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      echo "s3rver needs Node.js and npm: install Node.js 20+" >&2
      exit 1
    fi
    if [ ! -x "$tools/node_modules/.bin/s3rver" ]; then
      echo "Installing s3rver (npm ci in tests/tools)" >&2
      npm ci --prefix "$tools" --no-audit --no-fund >&2
    fi
    mkdir -p "$dir/data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
      || shuf -i 20000-40000 -n 1)
    nohup node "$tools/node_modules/.bin/s3rver" -d "$dir/data" -a 127.0.0.1 -p "$port" --configure-bucket "$bucket" --allow-mismatched-signatures --silent \
      >"$dir/s3rver.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 100); do
      if curl -fs -o /dev/null "http://127.0.0.1:$port/$bucket"; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "s3rver did not answer on port $port:" >&2
    cat "$dir/s3rver.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      rm -f "$dir/pid"
    fi
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

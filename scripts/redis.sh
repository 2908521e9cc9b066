#!/usr/bin/env bash
# Starts or stops a throwaway Redis server for tests and benchmarks.
#   scripts/redis.sh start DIR   -> prints the StackExchange.Redis connection string on stdout
#   scripts/redis.sh stop DIR
# Listens on 127.0.0.1 on a free port, keeps nothing on disk (no RDB snapshot, no AOF) and requires
# a password made up for this run (DIR/password), so the tests use the same authenticated path as
# production. Installs Debian's redis-server with apt-get when it is missing and we are root.
# Starting DIR again after a stop reuses its port and password: a restart, as tests of reconnection need.
set -euo pipefail

cmd=${1:?usage: redis.sh start|stop DIR}
dir=${2:?usage: redis.sh start|stop DIR}

case "$cmd" in
  start)
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
      if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "Redis is missing: installing redis-server with apt-get" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2
      else
        echo "Redis is not installed and cannot be installed here (need root and apt-get): install the 'redis-server' package" >&2
        exit 1
      fi
    fi
    mkdir -p "$dir"
    if [ -f "$dir/port" ] && [ -f "$dir/password" ]; then
      port=$(cat "$dir/port"); password=$(cat "$dir/password")
    else
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
        || shuf -i 20000-40000 -n 1)
      password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
      (umask 077; echo "$password" >"$dir/password")
      echo "$port" >"$dir/port"
    fi
    # The password goes through a config file, not the command line (ps would show it).
    (umask 077; printf 'requirepass %s\n' "$password" >"$dir/redis.conf")
    redis-server "$dir/redis.conf" --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no >&2 \
      || { cat "$dir/redis.log" >&2 2>/dev/null; exit 1; }
    # Ready when it answers PING.
    for _ in $(seq 1 100); do
      if REDISCLI_AUTH="$password" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "127.0.0.1:$port,password=$password"
        exit 0
      fi
      sleep 0.1
    done
    echo "Redis did not start:" >&2; cat "$dir/redis.log" >&2 2>/dev/null; exit 1
    ;;
  stop)
    if [ -f "$dir/port" ] && [ -f "$dir/password" ]; then
      REDISCLI_AUTH="$(cat "$dir/password")" redis-cli -h 127.0.0.1 -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || true
    fi
    # Fallback when it does not answer: its own pid file, never a name.
    if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
      kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    fi
    rm -f "$dir/redis.pid"
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

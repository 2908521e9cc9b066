#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for tests and benchmarks.
#   scripts/postgres.sh start DIR   -> prints the connection string on stdout
#   scripts/postgres.sh stop DIR
# The cluster lives in DIR (created if missing), listens on 127.0.0.1 on a free port,
# trusts local connections (it is disposable) and is owned by the postgres user because
# initdb refuses to run as root.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)

as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "$cmd" in
  start)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
      if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "PostgreSQL is missing: installing it with apt-get" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
        bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
      else
        echo "PostgreSQL is not installed and cannot be installed here (need root and apt-get): install the 'postgresql' package" >&2
        exit 1
      fi
    fi
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
      || shuf -i 20000-40000 -n 1)
    if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$dir"; fi
    as_postgres "'$bindir/initdb' -D '$dir/data' --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_postgres "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB\" start" >&2 \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    if [ -d "$dir/data" ] && [ -n "$bindir" ]; then
      as_postgres "'$bindir/pg_ctl' -D '$dir/data' -m fast -w stop" >&2 || true
    fi
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Starts or stops a throwaway Docker engine for the Docker log-driver and watcher tests.
#   scripts/docker.sh start DIR   -> prints the engine endpoint (unix://DIR/docker.sock) on stdout
#   scripts/docker.sh stop DIR
# The engine has its own data root, exec root and socket in DIR, changes no firewall rule
# (--iptables=false) and creates no bridge (--bridge=none: containers run with --network none;
# the log drivers run in the daemon, so syslog/gelf addresses on 127.0.0.1 still work). No registry
# is reachable here, so the image faultline-test/busybox is imported from a root filesystem holding
# Debian's busybox-static. It is stopped by its pid. Exit status 1 with a reason on stderr when the
# engine cannot start on this machine.
set -euo pipefail

cmd=${1:?usage: docker.sh start|stop DIR}
dir=${2:?usage: docker.sh start|stop DIR}
docker=/usr/bin/docker # /usr/local/bin/docker may be an unrelated client

case "$cmd" in
  start)
    if ! command -v dockerd >/dev/null || [ ! -x "$docker" ] || [ ! -x /bin/busybox ]; then
      if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "docker.io or busybox-static is missing: installing with apt-get" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static) >&2
      else
        echo "dockerd is not installed and cannot be installed here (need root and apt-get): install docker.io and busybox-static" >&2
        exit 1
      fi
    fi
    mkdir -p "$dir/data" "$dir/exec"
    sock="$dir/docker.sock"
    dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$dir/dockerd.pid" \
      --iptables=false --bridge=none >"$dir/dockerd.log" 2>&1 &
    echo $! >"$dir/dockerd.pid.launch"
    for _ in $(seq 1 150); do
      if "$docker" -H "unix://$sock" version >/dev/null 2>&1; then break; fi
      if ! kill -0 "$(cat "$dir/dockerd.pid.launch")" 2>/dev/null; then
        echo "dockerd exited at start:" >&2; tail -n 20 "$dir/dockerd.log" >&2; exit 1
      fi
      sleep 0.2
    done
    if ! "$docker" -H "unix://$sock" version >/dev/null 2>&1; then
      echo "dockerd did not answer within 30 s:" >&2; tail -n 20 "$dir/dockerd.log" >&2; exit 1
    fi
    rootfs="$dir/rootfs"
    mkdir -p "$rootfs/bin" "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    ln -sf busybox "$rootfs/bin/sh"
    if ! tar -C "$rootfs" -c . | "$docker" -H "unix://$sock" import - faultline-test/busybox:latest >&2; then
      echo "docker import of the busybox root filesystem failed" >&2; exit 1
    fi
    # A container must be able to run here (cgroups, namespaces): try one before saying yes.
    if ! out=$("$docker" -H "unix://$sock" run --rm --network none faultline-test/busybox:latest /bin/busybox echo ok 2>&1) || [ "$out" != "ok" ]; then
      echo "dockerd started but cannot run a container here: $out" >&2; exit 1
    fi
    echo "unix://$sock"
    ;;
  stop)
    for file in "$dir/dockerd.pid" "$dir/dockerd.pid.launch"; do
      [ -f "$file" ] || continue
      pid=$(cat "$file")
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

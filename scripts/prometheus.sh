#!/usr/bin/env bash
# Prometheus for tests and by-hand checks.
#   scripts/prometheus.sh path               -> installs Prometheus if missing, prints the binary's path
#   scripts/prometheus.sh start DIR [TARGET] -> scrapes TARGET (default 127.0.0.1:8100) every second,
#                                               prints Prometheus's base URL on stdout
#   scripts/prometheus.sh stop DIR
# The tests (tests/Faultline.Tests/Infrastructure/PrometheusServer.cs) start their own Prometheus
# with a configuration pointing at their test server's dynamic port; test.sh only needs `path`.
set -euo pipefail

cmd=${1:?usage: prometheus.sh path | start DIR [TARGET] | stop DIR}

binary() {
  local found
  found=$(command -v prometheus || true)
  if [ -z "$found" ] && [ -x /usr/bin/prometheus ]; then found=/usr/bin/prometheus; fi
  if [ -z "$found" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      echo "Prometheus is missing: installing it with apt-get" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus) >&2
      found=/usr/bin/prometheus
    else
      echo "Prometheus is not installed and cannot be installed here (need root and apt-get): install the 'prometheus' package" >&2
      exit 1
    fi
  fi
  echo "$found"
}

case "$cmd" in
  path)
    binary
    ;;
  start)
    dir=${2:?usage: prometheus.sh start DIR [TARGET]}
    target=${3:-127.0.0.1:8100}
    bin=$(binary)
    mkdir -p "$dir/data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
      || shuf -i 20000-40000 -n 1)
    cat >"$dir/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: faultline
    static_configs:
      - targets: ["$target"]
YAML
    "$bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$port" >"$dir/prometheus.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 100); do
      if curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then
        echo "http://127.0.0.1:$port"; exit 0
      fi
      sleep 0.2
    done
    echo "Prometheus did not become ready; its log:" >&2; cat "$dir/prometheus.log" >&2; exit 1
    ;;
  stop)
    dir=${2:?usage: prometheus.sh stop DIR}
    if [ -f "$dir/pid" ]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; rm -f "$dir/pid"; fi
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

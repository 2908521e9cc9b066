#!/usr/bin/env bash
# Starts or stops a throwaway SMTP sink (Debian's python3-aiosmtpd) for the alert and report tests.
#   scripts/smtp.sh start DIR   -> prints "HOST:PORT" on stdout; every mail lands in DIR/maildir/new/
#   scripts/smtp.sh stop DIR
# Debian's /usr/bin/python3 is used on purpose: another python3 earlier on PATH lacks the module.
set -euo pipefail

cmd=${1:?usage: smtp.sh start|stop DIR}
dir=${2:?usage: smtp.sh start|stop DIR}
python=/usr/bin/python3

case "$cmd" in
  start)
    if ! "$python" -c 'import aiosmtpd' >/dev/null 2>&1; then
      if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "aiosmtpd is missing: installing python3-aiosmtpd with apt-get" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd) >&2
      else
        echo "The SMTP sink needs Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd) and cannot be installed here (need root and apt-get)" >&2
        exit 1
      fi
    fi
    mkdir -p "$dir/maildir/tmp" "$dir/maildir/new" "$dir/maildir/cur" # the handler writes into an existing maildir
    port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    nohup "$python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/smtp.log" 2>&1 &
    echo $! >"$dir/smtp.pid"
    # Ready when the port answers.
    for _ in $(seq 1 100); do
      if "$python" -c "import socket; socket.create_connection(('127.0.0.1',$port),1).close()" 2>/dev/null; then
        echo "127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "The SMTP sink did not start:" >&2; cat "$dir/smtp.log" >&2; exit 1
    ;;
  stop)
    if [ -f "$dir/smtp.pid" ]; then
      kill "$(cat "$dir/smtp.pid")" 2>/dev/null || true
      rm -f "$dir/smtp.pid"
    fi
    ;;
  *)
    echo "unknown command: $cmd" >&2; exit 2 ;;
esac

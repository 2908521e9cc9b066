#!/usr/bin/env bash
# Runs every test suite against real components and ends with one summary line:
#   N passed, N failed, N skipped
# Installs what is missing (PostgreSQL via apt-get when run as root) and starts a throwaway
# PostgreSQL cluster and a Redis server for the run; the .NET tests run against SQLite and PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)

work=$(mktemp -d /tmp/faultline-test.XXXXXX)
chmod 755 "$work" # the postgres user must reach the cluster folder inside it
cleanup() {
  "$root/scripts/postgres.sh" stop "$work/postgres" >/dev/null 2>&1 || true
  "$root/scripts/docker.sh" stop "$work/docker" >/dev/null 2>&1 || true
  "$root/scripts/s3.sh" stop "$work/s3" >/dev/null 2>&1 || true
  "$root/scripts/smtp.sh" stop "$work/smtp" >/dev/null 2>&1 || true
  "$root/scripts/redis.sh" stop "$work/redis" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0; failed=0; skipped=0
summary() {
  echo "$passed passed, $failed failed, $skipped skipped"
}

echo "== Starting PostgreSQL"
if ! FAULTLINE_TEST_POSTGRES=$("$root/scripts/postgres.sh" start "$work/postgres"); then
  echo "PostgreSQL could not be started: the PostgreSQL tests cannot run. See the messages above."
  failed=$((failed + 1)); summary; exit 1
fi
export FAULTLINE_TEST_POSTGRES

# Several nodes share PostgreSQL and Redis (live-stream backplane, shared rate limits).
echo "== Starting Redis"
if ! FAULTLINE_TEST_REDIS=$("$root/scripts/redis.sh" start "$work/redis"); then
  echo "Redis could not be started: the multi-node (backplane, shared rate limit) tests cannot run. See the messages above."
  failed=$((failed + 1)); summary; exit 1
fi
export FAULTLINE_TEST_REDIS

# The Docker log-driver and watcher tests need a Docker engine. It is the one component a machine may
# lack (no cgroups or namespaces in some sandboxes): then those tests are skipped with the reason.
echo "== Starting a Docker engine (scripts/docker.sh)"
if FAULTLINE_TEST_DOCKER_HOST=$("$root/scripts/docker.sh" start "$work/docker" 2>"$work/docker-start.log"); then
  export FAULTLINE_TEST_DOCKER_HOST
else
  FAULTLINE_TEST_DOCKER_UNAVAILABLE=$(tail -n 3 "$work/docker-start.log" | tr '\n' ' ')
  export FAULTLINE_TEST_DOCKER_UNAVAILABLE
  echo "dockerd cannot run here; the Docker engine tests will be SKIPPED: $FAULTLINE_TEST_DOCKER_UNAVAILABLE"
fi

echo "== Starting s3rver (S3-compatible archive target)"
if ! FAULTLINE_TEST_S3=$("$root/scripts/s3.sh" start "$work/s3"); then
  echo "s3rver could not be started: the S3 archive tests cannot run. See the messages above."
  failed=$((failed + 1)); summary; exit 1
fi
export FAULTLINE_TEST_S3

# The tests start their own Prometheus (config pointing at their test server's port); they need the binary.
echo "== Prometheus"
if ! FAULTLINE_TEST_PROMETHEUS=$("$root/scripts/prometheus.sh" path); then
  echo "Prometheus is missing: the /metrics scrape and dashboard PromQL tests cannot run. See the messages above."
  failed=$((failed + 1)); summary; exit 1
fi
export FAULTLINE_TEST_PROMETHEUS

echo "== Starting the SMTP sink (alert and report mail)"
if ! FAULTLINE_TEST_SMTP=$("$root/scripts/smtp.sh" start "$work/smtp"); then
  echo "The SMTP sink could not be started: the email tests cannot run. See the messages above."
  failed=$((failed + 1)); summary; exit 1
fi
export FAULTLINE_TEST_SMTP FAULTLINE_TEST_MAILDIR="$work/smtp/maildir"

echo "== Building (Release, warnings are errors)"
if ! dotnet build Faultline.slnx -c Release -nologo -v quiet; then
  echo "The build failed."
  failed=$((failed + 1)); summary; exit 1
fi

echo "== Node packages for the Sentry SDK tests (npm ci)"
if ! npm ci --prefix tests/sentry-node --no-audit --no-fund; then
  echo "npm ci --prefix tests/sentry-node failed: the @sentry/node SDK tests cannot run. Needs Node.js 20.19+ with npm and the npm registry."
  failed=$((failed + 1)); summary; exit 1
fi

# The SDK's own check runs first: it builds sdk/js/dist and installs Chromium, which the .NET end-to-end
# tests of the SDK (tests/Faultline.Tests/Sdk/JsSdkEndToEndTests.cs) need. Its counts are kept apart and
# added to the totals after the .NET counts are summed.
echo "== JavaScript SDK (sdk/js/test.sh)"
"$root/sdk/js/test.sh" 2>&1 | tee "$work/sdk-js.log"
sdk_status=${PIPESTATUS[0]}
sdk_line=$(tail -n 1 "$work/sdk-js.log")
sdk_passed=0; sdk_failed=0; sdk_skipped=0
if [[ "$sdk_line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
  sdk_passed=${BASH_REMATCH[1]}; sdk_failed=${BASH_REMATCH[2]}; sdk_skipped=${BASH_REMATCH[4]:-0}
  if [ "$sdk_status" -ne 0 ] && [ "$sdk_failed" -eq 0 ]; then sdk_failed=1; fi
else
  echo "sdk/js/test.sh ended without a summary line."
  sdk_failed=1
fi

echo "== .NET tests (SQLite and PostgreSQL)"
dotnet test Faultline.slnx -c Release --no-build -nologo \
  --logger "trx;LogFileName=dotnet.trx" --logger "console;verbosity=minimal" \
  --results-directory "$work/results"
test_status=$?

# Sum the counters of every TRX file the run produced.
for trx in "$work"/results/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed)))
  total=$(value total); executed=$(value executed)
  skipped=$((skipped + total - executed))
done
if [ "$test_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test failed without failing tests (a crash or a missing component)."
  failed=$((failed + 1))
fi

# The SDK's counts, from its run before the .NET tests.
passed=$((passed + sdk_passed)); failed=$((failed + sdk_failed)); skipped=$((skipped + sdk_skipped))

summary
[ "$failed" -eq 0 ]

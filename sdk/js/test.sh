#!/usr/bin/env bash
# The SDK's whole check: install, lint, type check, unit tests, build, size budget, real-browser test.
# Ends with one line "N passed, N failed, N skipped" (tests of vitest and of the browser run; a step
# that fails without running tests, such as lint, counts as one failed). Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"
passed=0; failed=0; skipped=0
out=$(mktemp -d /tmp/faultline-sdk-test.XXXXXX)
trap 'rm -rf "$out"' EXIT

step() { # step NAME COMMAND...: a step with no test count of its own
  echo "== $1"; shift
  if ! "$@"; then echo "FAILED: the step above"; failed=$((failed + 1)); return 1; fi
}

if ! step "npm ci" npm ci --no-audit --no-fund; then
  echo "$passed passed, $failed failed, $skipped skipped"; exit 1
fi
step "lint" npx eslint .
step "typecheck" npx tsc -p tsconfig.json --noEmit

echo "== unit tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json"
vitest_status=$?
if [ -f "$out/vitest.json" ]; then
  read -r p f s < <(node -e 'const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests)' "$out/vitest.json")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$vitest_status" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi # a crash, not a test
else
  echo "vitest wrote no results"; failed=$((failed + 1))
fi

if step "build" node scripts/build.mjs; then
  step "size" node scripts/size.mjs
  echo "== real-browser test (headless Chromium)"
  node scripts/browser-test.mjs | tee "$out/browser.txt"
  browser_status=${PIPESTATUS[0]}
  line=$(grep -E '^browser: [0-9]+ passed, [0-9]+ failed' "$out/browser.txt" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^browser: ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$browser_status" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
  else
    echo "the browser test ended without a summary"; failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

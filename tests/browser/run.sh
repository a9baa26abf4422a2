#!/bin/sh
# Runs the console's browser test (console.test.js) with node's test runner.
# Exit 77 (CTest's SKIP_RETURN_CODE for this test) only when node or Chromium is missing; a
# missing playwright-core is a failure: `npm ci` in this directory installs it (deploy/test.sh
# runs it).
case "$0" in */*) cd "${0%/*}" || exit 1 ;; esac
chromium=${SF_CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node is not installed, so the console's browser test cannot run"
  exit 77
fi
if [ ! -x "$chromium" ]; then
  echo "SKIP: no Chromium at $chromium (deploy/install-deps.sh installs Debian's chromium)"
  exit 77
fi
if ! node -e "require.resolve('playwright-core')" >/dev/null 2>&1; then
  echo "FAIL: playwright-core is not installed in $(pwd): run 'npm ci' there (deploy/test.sh does)" >&2
  exit 1
fi
exec node --test --test-reporter=spec console.test.js

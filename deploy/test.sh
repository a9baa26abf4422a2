#!/usr/bin/env bash
# Command 2 of the README: install dependencies, build once with ASan+UBSan, run the whole
# default test suite (unit, integration, e2e; `slow` is excluded and has its own command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
jobs=$(nproc)
# The console's browser test drives Debian's Chromium with npm playwright-core, pinned by
# tests/browser/package-lock.json. Without node the test reports itself skipped.
if command -v node >/dev/null 2>&1; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error >/dev/null
fi
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
# Tests are mostly I/O-bound (sockets, fsync), so run more of them than there are cores.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset asan -j $((jobs * 2)) "$@"

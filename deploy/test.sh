#!/usr/bin/env bash
# Command 2 of the README: install dependencies, build once with ASan+UBSan, run the whole
# default test suite (unit, integration, e2e; `slow` is excluded and has its own command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
jobs=$(nproc)
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
# Tests are mostly I/O-bound (sockets, fsync), so run more of them than there are cores.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset asan -j $((jobs * 2)) "$@"

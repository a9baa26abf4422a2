#!/usr/bin/env bash
# Fuzzes the readers of every on-disk structure of a repository with libFuzzer (clang):
# trees, documents (index, snapshot, evidence), envelopes and packs. New inputs that reach new
# code are added to backup/fuzz/corpus/<target>/ (minimise before committing:
# build/fuzz/fuzz_<target> -merge=1 -max_len=4096 NEW_DIR backup/fuzz/corpus/<target>); a crash
# stops the run and leaves build/fuzz/crash-<hash> (add it to the corpus once fixed).
#
#   backup/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default 60 s, every target
#
# Builds the targets itself with clang (-fsanitize=fuzzer,address,undefined) into build/fuzz;
# the normal build replays the corpus in the README's test command (backup_fuzz_corpus_*).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
shift || true
targets=${*:-tree document envelope pack}
out=$root/build/fuzz
mkdir -p "$out"
command -v clang++ >/dev/null || { echo "fuzz: needs clang (apt-get install clang)" >&2; exit 2; }
[ -f "$root/build/asan/generated/steadfast/version.h" ] || { echo "fuzz: configure a build first (cmake --preset asan)" >&2; exit 2; }

flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -I"$root" -I"$root/build/asan/generated")
sources=()
for f in "$root"/backup/*.cc; do
  case $f in *_test.cc | */backup_main.cc) continue ;; esac
  sources+=("$f")
done
sources+=("$root/common/status.cc" "$root/common/clock.cc" "$root/common/sqlite/sqlite_db.cc")
objs=()
for src in "${sources[@]}"; do
  obj=$out/$(basename "${src%.cc}").o
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
    clang++ "${flags[@]}" -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done
for t in $targets; do
  clang++ "${flags[@]}" -fsanitize=fuzzer "$root/backup/fuzz/fuzz_$t.cc" "${objs[@]}" \
    -lssl -lcrypto -largon2 -lzstd -lsqlite3 -lfmt -o "$out/fuzz_$t"
  mkdir -p "$root/backup/fuzz/corpus/$t"
  echo "fuzz: $t for $seconds s" >&2
  (cd "$out" && ./"fuzz_$t" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
    "$root/backup/fuzz/corpus/$t")
done

#!/usr/bin/env bash
# SIGKILL at every point of a backup, and of forget + prune, leaves a repository that
# `check --read-data` passes, that the next backup uses, and whose latest snapshot restores byte
# for byte.
#
#   backup/kill_points_test.sh STEADFAST_BACKUP [POINTS]
#
# The crash points are the places where the repository's files change (backend.cc CrashPoint):
# half-way through writing a file (a temporary file left behind), after each file is durable,
# after each removal. STEADFAST_BACKUP_CRASH_AT=N makes the program SIGKILL itself at the Nth
# one; this script walks N = 1, 2, ... until the operation gets through without reaching N (every
# point covered), or POINTS (default: every point; the README's test command passes a short
# stride with KILL_STRIDE). A timed kill from outside (at random moments, in the middle of
# compressing or hashing) comes on top.
set -euo pipefail

sb=$1
max_points=${2:-100000}
stride=${KILL_STRIDE:-1}
work=$(mktemp -d /tmp/sf-kill-points.XXXXXX)
trap 'rm -rf "$work"' EXIT
export STEADFAST_BACKUP_PASSWORD=kill-points XDG_CACHE_HOME=$work/cache
unset STEADFAST_BACKUP_CRASH_AT

fail() {
  echo "kill_points_test: $*" >&2
  exit 1
}

# A small data set that still makes several packs of 1 MiB: text, random data, many small files.
data=$work/data
mkdir -p "$data/logs" "$data/bin" "$data/forms"
seq 1 200000 | sed 's/^/entry /' >"$data/logs/app.log"
head -c 3000000 /dev/urandom >"$data/bin/blob.bin"
for i in $(seq 1 150); do head -c $((RANDOM % 5000 + 10)) /dev/urandom >"$data/forms/f$i"; done
ln -s ../logs/app.log "$data/current"

repo=$work/repo
"$sb" -q -r "$repo" init --pack-size-mib 1 --kdf-memory-mib 64 --kdf-passes 3
"$sb" -q -r "$repo" backup "$data"

check_ok() {  # REPO WHEN
  local out
  if ! out=$("$sb" -r "$1" check --read-data 2>&1); then
    echo "$out" >&2
    fail "check --read-data failed $2"
  fi
}

restore_matches() {  # REPO WHEN
  local target=$work/restore
  rm -rf "$target"
  "$sb" -q -r "$1" restore latest -t "$target" --verify || fail "restore --verify failed $2"
  diff -r --no-dereference "$data" "$target/data" >/dev/null || fail "the restored data differs from the source $2"
}

# --- backup ---------------------------------------------------------------------------------
points=0
n=1
while [ "$n" -le "$max_points" ]; do
  # A change between attempts, so that every attempt has new data to write.
  echo "change $n" >>"$data/logs/app.log"
  head -c 200000 /dev/urandom >"$data/bin/new-$n.bin"
  set +e
  STEADFAST_BACKUP_CRASH_AT=$n "$sb" -q -r "$repo" backup "$data" 2>/dev/null
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then break; fi  # got through: every point before n was covered
  [ "$rc" -eq 137 ] || fail "backup with a crash at point $n exited $rc, not by SIGKILL"
  points=$((points + 1))
  check_ok "$repo" "after a kill at backup point $n"
  n=$((n + stride))
done
[ "$points" -gt 0 ] || fail "no crash point was reached"
check_ok "$repo" "after the backups"
restore_matches "$repo" "after $points killed backups"
echo "kill_points_test: backup killed at $points points: check --read-data passed after each; the next backup and restore are whole" >&2

# A timed kill from outside, in the middle of the work (not only at file changes).
for delay in 0.05 0.15 0.3; do
  head -c 2000000 /dev/urandom >"$data/bin/timed-$delay.bin"
  "$sb" -q -r "$repo" backup "$data" &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  check_ok "$repo" "after a timed kill at ${delay}s"
done
"$sb" -q -r "$repo" backup "$data"
restore_matches "$repo" "after the timed kills"

# --- forget + prune -------------------------------------------------------------------------
# Each attempt starts from a copy of the same repository (its own cache), forgets all but the
# latest snapshot and prunes, killed at point n.
points=0
n=1
while [ "$n" -le "$max_points" ]; do
  copy=$work/prune-copy
  rm -rf "$copy" "$work/cache-prune"
  cp -a "$repo" "$copy"
  set +e
  XDG_CACHE_HOME=$work/cache-prune STEADFAST_BACKUP_CRASH_AT=$n "$sb" -q -r "$copy" forget --keep-last 1 --prune 2>/dev/null
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then break; fi
  [ "$rc" -eq 137 ] || fail "forget --prune with a crash at point $n exited $rc, not by SIGKILL"
  points=$((points + 1))
  XDG_CACHE_HOME=$work/cache-prune check_ok "$copy" "after a kill at prune point $n"
  XDG_CACHE_HOME=$work/cache-prune restore_matches "$copy" "after a kill at prune point $n"
  # The interrupted prune is finished by the next one.
  XDG_CACHE_HOME=$work/cache-prune "$sb" -q -r "$copy" forget --keep-last 1 --prune
  XDG_CACHE_HOME=$work/cache-prune check_ok "$copy" "after the prune that followed a kill at point $n"
  n=$((n + stride))
done
[ "$points" -gt 0 ] || fail "no prune crash point was reached"
echo "kill_points_test: forget + prune killed at $points points: check --read-data passed and the latest snapshot restored after each" >&2

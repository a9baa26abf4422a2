#!/usr/bin/env bash
# steadfast-backup next to restic and borg (Debian's packages) on the same deterministic data
# set, in the same run: initial backup, incremental backup after a 5 % change, full restore and
# full data check, each with wall seconds, CPU seconds (user + system), peak resident memory,
# and the repository's size; then each figure's ratio to restic.
#
#   bench/backup_compare.sh [BIN_DIR]       BIN_DIR: the release build (default build/release)
#
# The data set (bench/backup_dataset.py, about 1 GiB at SCALE=1): rotated application logs, a
# SQLite database of 1.5 M records, five 50 MiB incompressible images, 20,000 small files
# (60 % text, 40 % random); the change adds a day of logs, updates 1 % of the records and adds
# 2 %, rewrites 8 MiB inside one image, edits 1,000 small files and adds 200.
#
# Settings, alike where the tools allow: compression on (steadfast-backup and borg zstd level 3,
# restic "auto"), encryption on (steadfast-backup AES-256-GCM, restic AES-256-CTR + Poly1305,
# borg repokey-blake2), each tool's default chunk sizes, the local cache of each in the work
# directory, caches warm (each command's input is read into the page cache right before it
# runs; see timed below). The tools take turns going first, one place further each run. Restores go to RESTORE_ROOT (default
# /dev/shm when it has room), so that ext4's scan for recently deleted inodes, which makes file
# creation right after a large delete several times slower, does not decide the result.
#
# Environment:
#   SCALE=1.0      data set size (1.0 is about 1 GiB)
#   RUNS=3         repetitions; the tables show medians (memory: the largest)
#   TOOLS="steadfast restic borg"
#   SETTLE=5       seconds of rest before each measured command: on a virtual machine the host
#                  may still be writing the previous command's data after `sync` returns, and
#                  whoever comes next waits for it
#   WORK=DIR       work directory (default: a new one under /var/tmp); the data set is kept
#                  there between runs of the script when WORK is given
#   RESTORE_ROOT=DIR
#   KEEP=1         keep the work directory
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
scale=${SCALE:-1.0}
runs=${RUNS:-3}
settle=${SETTLE:-5}
tools=${TOOLS:-steadfast restic borg}

bench_backup_start backup_compare "${1:-}"
if ! command -v restic >/dev/null || ! command -v borg >/dev/null; then
  "$root/deploy/install-deps.sh" --bench
fi
command -v /usr/bin/time >/dev/null || { echo "backup_compare: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

cleanup() {
  rm -rf "${restore_root:-/nonexistent}"/sf-backup-bench-* 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ] || [ -n "${WORK:-}" ]; then
    rm -rf "$work"/run "$work"/repos
    echo "backup_compare: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

base=$work/base-$scale
bench_backup_dataset backup_compare "$work" "$scale"
data_bytes=$(du -sb --exclude=.complete "$base" | cut -f1)
data_files=$(find "$base" -type f ! -name .complete | wc -l)

restore_root=${RESTORE_ROOT:-}
if [ -z "$restore_root" ]; then
  restore_root=$work
  shm_free=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
  if [ "${shm_free:-0}" -gt $((data_bytes * 2)) ]; then restore_root=/dev/shm; fi
fi

export STEADFAST_BACKUP_PASSWORD=bench-password RESTIC_PASSWORD=bench-password BORG_PASSPHRASE=bench-password
export BORG_BASE_DIR=$work/borg-home BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export RESTIC_CACHE_DIR=$work/restic-cache XDG_CACHE_HOME=$work/sf-cache

results=$work/results.tsv
: >"$results"

# timed TOOL OP RUN WARM COMMAND...: after a rest (SETTLE) and with everything under the
# directory WARM read into the page cache, runs COMMAND under /usr/bin/time; appends a row to
# results. Warm, because one tool's run must not decide another's cache: borg drops from the
# cache what it has read and written (posix_fadvise DONTNEED), so whoever came after it read
# from disk (restic's initial backup: 7.6 s after borg's, 5.9 s otherwise); steadfast-backup
# writes packs past the cache (O_DIRECT), so its restore read them from disk and restic's not;
# and this machine pages out what has not been touched for a minute.
timed() {
  local tool=$1 op=$2 run=$3 warm=$4
  shift 4
  sync
  sleep "$settle"
  find "$warm" -type f -print0 | xargs -0 -r cat >/dev/null
  local out=$work/time.out
  if ! /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" >"$work/$tool-$op.log" 2>&1; then
    echo "backup_compare: $tool $op failed:" >&2
    tail -20 "$work/$tool-$op.log" >&2
    exit 1
  fi
  read -r wall user sys rss <"$out"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$op" "$run" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$rss" >>"$results"
}

init_repo() {
  local tool=$1 repo=$2
  case $tool in
    steadfast) "$sb" -r "$repo" init -q ;;
    restic) restic -r "$repo" init -q >/dev/null ;;
    borg) borg init -e repokey-blake2 "$repo" >/dev/null 2>&1 ;;
  esac
}

backup_cmd() {
  local tool=$1 repo=$2 data=$3 name=$4
  case $tool in
    steadfast) echo "$sb -r $repo backup $data -q --host bench" ;;
    restic) echo "restic -r $repo backup $data -q --host bench" ;;
    borg) echo "borg create --compression zstd,3 $repo::$name $data" ;;
  esac
}

restore() {  # runs in the target directory
  local tool=$1 repo=$2 target=$3
  case $tool in
    steadfast) "$sb" -r "$repo" restore latest -t "$target" -q ;;
    restic) restic -r "$repo" restore latest --target "$target" -q ;;
    borg) (cd "$target" && borg extract "$repo::second") ;;
  esac
}

check() {
  local tool=$1 repo=$2
  case $tool in
    steadfast) "$sb" -r "$repo" check --read-data -q ;;
    restic) restic -r "$repo" check --read-data -q ;;
    borg) borg check --verify-data "$repo" ;;
  esac
}
export -f restore check
export sb

echo "backup_compare: $(numfmt --to=iec "$data_bytes") in $data_files files; $runs run(s); restores in $restore_root" >&2
for run in $(seq 1 "$runs"); do
  echo "backup_compare: run $run of $runs" >&2
  rm -rf "$work/run" "$work/repos"
  mkdir -p "$work/repos"
  cp -a "$base" "$work/run"
  data=$work/run
  # The tools take turns going first, so that what is left of one tool's run (see SETTLE)
  # does not always fall on the same other tool. Over RUNS=3 each holds each place once.
  read -r -a all <<<"$tools"
  shift_by=$(((run - 1) % ${#all[@]}))
  order="${all[*]:shift_by} ${all[*]:0:shift_by}"
  for tool in $order; do
    init_repo "$tool" "$work/repos/$tool"
    # shellcheck disable=SC2046
    timed "$tool" initial "$run" "$data" $(backup_cmd "$tool" "$work/repos/$tool" "$data" first)
  done
  python3 "$root/bench/backup_dataset.py" change "$data"
  for tool in $order; do
    # shellcheck disable=SC2046
    timed "$tool" incremental "$run" "$data" $(backup_cmd "$tool" "$work/repos/$tool" "$data" second)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" size "$run" "$(du -sb "$work/repos/$tool" | cut -f1)" 0 0 >>"$results"
  done
  for tool in $order; do
    target=$restore_root/sf-backup-bench-$tool-$run
    rm -rf "$target"
    mkdir -p "$target"
    timed "$tool" restore "$run" "$work/repos/$tool" bash -c 'restore "$@"' _ "$tool" "$work/repos/$tool" "$target"
    restored=$(du -sb "$target" | cut -f1)
    if [ "$restored" -lt $((data_bytes * 9 / 10)) ]; then
      echo "backup_compare: $tool restored only $restored bytes" >&2
      exit 1
    fi
    # Gone before the next tool restores: a gigabyte more in /dev/shm made our restore's
    # system time two to three times as large (page allocation), and would tax whoever is next.
    rm -rf "$target"
  done
  for tool in $order; do
    timed "$tool" check "$run" "$work/repos/$tool" bash -c 'check "$@"' _ "$tool" "$work/repos/$tool"
  done
  rm -rf "$restore_root"/sf-backup-bench-*-"$run"
done

python3 - "$results" "$tools" "$data_bytes" "$data_files" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
tools = sys.argv[2].split()
data_bytes, data_files = int(sys.argv[3]), int(sys.argv[4])
def pick(tool, op, col):
    vals = [float(r[col]) for r in rows if r[0] == tool and r[1] == op]
    return vals
print(f"data set: {data_bytes / 2**20:.0f} MiB in {data_files} files; medians of {len(pick(tools[0], 'initial', 3))} run(s)")
print()
print(f"{'operation':<12} {'tool':<10} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9} {'speed x restic':>15} {'memory / restic':>16}")
for op in ("initial", "incremental", "restore", "check"):
    ref = statistics.median(pick("restic", op, 3)) if "restic" in tools else None
    ref_mem = max(pick("restic", op, 5)) if "restic" in tools else None
    for t in tools:
        wall = statistics.median(pick(t, op, 3))
        cpu = statistics.median(pick(t, op, 4))
        mem = max(pick(t, op, 5)) / 1024
        speed = f"{ref / wall:.2f}" if ref else "-"
        memr = f"{mem * 1024 / ref_mem:.2f}" if ref_mem else "-"
        print(f"{op:<12} {t:<10} {wall:>8.2f} {cpu:>8.2f} {mem:>9.1f} {speed:>15} {memr:>16}")
print()
ref = statistics.median(pick("restic", "size", 3)) if "restic" in tools else None
print(f"{'repository':<12} {'tool':<10} {'MiB':>8} {'size / restic':>15}")
for t in tools:
    size = statistics.median(pick(t, "size", 3))
    print(f"{'after both':<12} {t:<10} {size / 2**20:>8.1f} {(f'{size / ref:.3f}' if ref else '-'):>15}")
EOF

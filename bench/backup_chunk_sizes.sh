#!/usr/bin/env bash
# Chooses steadfast-backup's default chunk sizes by measurement (backup/FORMAT.md 5.1): each
# candidate MIN,AVG,MAX backs up each kind of data of bench/backup_dataset.py into a repository
# of its own (logs, a SQLite database, incompressible images, 20,000 small files), then the
# same data after the data set's "5 % change" (a new day of logs, 1 % of the records updated and
# 2 % added, 8 MiB rewritten inside one image, 1,000 small files edited and 200 added). It
# prints, per kind and in total, what each setting stores for the first backup, what the second
# one adds (deduplication of the changed data), the two together, and the backups' wall time.
#
#   bench/backup_chunk_sizes.sh [BIN_DIR]     BIN_DIR: the release build (default build/release)
#
# Environment:
#   SIZES="256K,512K,4M 512K,1M,8M 1M,2M,16M 2M,4M,32M"   candidates (init --chunk-sizes)
#   SCALE=1.0   data set size (1.0 is about 1 GiB)
#   RUNS=2      repetitions with new repositories (new keys, so new chunk boundaries); the
#               table shows the mean
#   WORK=DIR    work directory (default: a new one under /var/tmp); the data set is kept there
#               between runs when WORK is given (bench/backup_compare.sh's layout, so the two
#               share it)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
scale=${SCALE:-1.0}
runs=${RUNS:-2}
sizes=${SIZES:-256K,512K,4M 512K,1M,8M 1M,2M,16M 2M,4M,32M}
kinds="logs records.sqlite bin forms"

bench_backup_start backup_chunk_sizes "${1:-}"

cleanup() {
  rm -rf "$work"/chunk-run "$work"/chunk-repos
  if [ -z "${WORK:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

base=$work/base-$scale
bench_backup_dataset backup_chunk_sizes "$work" "$scale"

export STEADFAST_BACKUP_PASSWORD=bench-password XDG_CACHE_HOME=$work/chunk-cache
results=$work/chunk-results.tsv
: >"$results"

# seconds COMMAND...: runs COMMAND quietly and prints its wall time in seconds.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

repo_bytes() { du -sb "$1" | cut -f1; }

for run in $(seq 1 "$runs"); do
  echo "backup_chunk_sizes: run $run of $runs" >&2
  rm -rf "$work/chunk-run" "$work/chunk-repos" "$XDG_CACHE_HOME"
  cp -a "$base" "$work/chunk-run"
  rm -f "$work/chunk-run/.complete"
  for phase in first second; do
    if [ "$phase" = second ]; then python3 "$root/bench/backup_dataset.py" change "$work/chunk-run"; fi
    for s in $sizes; do
      for kind in $kinds; do
        repo=$work/chunk-repos/$s/$kind
        if [ "$phase" = first ]; then
          mkdir -p "$(dirname "$repo")"
          "$sb" -r "$repo" init -q --chunk-sizes "$s"
        fi
        sync
        wall=$(seconds "$sb" -r "$repo" backup "$work/chunk-run/$kind" -q --host bench)
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$kind" "$phase" "$run" "$(repo_bytes "$repo")" "$wall" >>"$results"
      done
    done
  done
done

python3 - "$results" "$sizes" "$kinds" <<'EOF'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sizes, kinds = sys.argv[2].split(), sys.argv[3].split()
acc = collections.defaultdict(list)
for s, kind, phase, run, size, wall in rows:
    acc[(s, kind, phase)].append((int(size), float(wall)))
def mean(xs):
    return sum(xs) / len(xs)
def figures(s, kind):
    first = acc[(s, kind, "first")]
    second = acc[(s, kind, "second")]
    initial = mean([b for b, _ in first])
    total = mean([b for b, _ in second])
    return initial, total - initial, total, mean([w for _, w in first]), mean([w for _, w in second])
MiB = 2 ** 20
print(f"{'data':<16} {'MIN,AVG,MAX':<13} {'1st MiB':>9} {'2nd adds':>9} {'both MiB':>9} {'1st s':>7} {'2nd s':>7}")
for kind in kinds + ["all"]:
    for s in sizes:
        if kind == "all":
            parts = [figures(s, k) for k in kinds]
            f = [sum(p[i] for p in parts) for i in range(5)]
        else:
            f = figures(s, kind)
        print(f"{kind:<16} {s:<13} {f[0] / MiB:>9.1f} {f[1] / MiB:>9.1f} {f[2] / MiB:>9.1f} {f[3]:>7.2f} {f[4]:>7.2f}")
    print()
EOF

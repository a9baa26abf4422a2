#!/usr/bin/env bash
# steadfast-backup from the outside: exit codes (0 ok, 1 failure, 2 usage, 3 damage), messages
# that say what and where, and bad input that changes nothing: a wrong password, a missing
# repository or path, a bad snapshot id, a read-only repository, a damaged pack.
#
#   backup/cli_test.sh STEADFAST_BACKUP
set -uo pipefail

sb=$1
work=$(mktemp -d /tmp/sf-backup-cli.XXXXXX)
cleanup() {
  chattr -R -i "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export XDG_CACHE_HOME=$work/cache
unset STEADFAST_BACKUP_PASSWORD STEADFAST_BACKUP_PASSWORD_FILE STEADFAST_BACKUP_REPOSITORY
failures=0

# expect CODE TEXT COMMAND...: runs COMMAND (stdin from /dev/null), checks the exit code and
# that TEXT (if not empty) is in its output.
expect() {
  local code=$1 text=$2
  shift 2
  local out rc
  out=$("$@" </dev/null 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ] || { [ -n "$text" ] && ! grep -qF -- "$text" <<<"$out"; }; then
    echo "FAIL: $* -> exit $rc (expected $code${text:+, output with '$text'})" >&2
    echo "$out" | head -5 >&2
    failures=$((failures + 1))
  fi
}

listing() { (cd "$work/repo" && find . -type f | sort | xargs sha256sum); }

echo secret >"$work/pw"
echo wrong >"$work/bad"
mkdir -p "$work/data/sub"
echo hello >"$work/data/a.txt"
head -c 300000 /dev/urandom >"$work/data/sub/b.bin"
R=(-r "$work/repo" -p "$work/pw")

expect 0 "steadfast-backup" "$sb" --version
expect 0 "Exit codes" "$sb" --help
expect 2 "" "$sb"
expect 2 "" "$sb" --frobnicate
expect 2 "no repository" "$sb" snapshots
expect 2 "no password" "$sb" -r "$work/repo" snapshots
expect 0 "created repository" "$sb" "${R[@]}" init --kdf-memory-mib 64 --kdf-passes 3
expect 1 "" "$sb" "${R[@]}" init
expect 2 "pack size" "$sb" -r "$work/repo2" -p "$work/pw" init --pack-size-mib 0
expect 2 "three sizes are needed" "$sb" -r "$work/repo2" -p "$work/pw" init --chunk-sizes 1M,2M
expect 2 "'2X' has an unknown unit" "$sb" -r "$work/repo2" -p "$work/pw" init --chunk-sizes 1M,2X,8M
expect 2 "avg: 1024000 is not a power of two" "$sb" -r "$work/repo2" -p "$work/pw" init --chunk-sizes 512K,1000K,8M
expect 2 "need min < avg < max" "$sb" -r "$work/repo2" -p "$work/pw" init --chunk-sizes 2M,1M,8M
[ ! -e "$work/repo2" ] || { echo "FAIL: a refused init left $work/repo2" >&2; failures=$((failures + 1)); }
expect 0 "created repository" "$sb" -r "$work/repo3" -p "$work/pw" init --chunk-sizes 64K,128K,1M --kdf-memory-mib 64
expect 0 "saved" "$sb" -r "$work/repo3" -p "$work/pw" backup "$work/data"
expect 0 "chunks 64.0 KiB / 128 KiB / 1.00 MiB" "$sb" -r "$work/repo3" -p "$work/pw" stats
expect 1 "no repository" "$sb" -r "$work/nothing-here" -p "$work/pw" snapshots
expect 0 "saved" "$sb" "${R[@]}" backup "$work/data"
before=$(listing)
expect 1 "wrong password" "$sb" -r "$work/repo" -p "$work/bad" backup "$work/data"
expect 1 "$work/no-such-dir" "$sb" "${R[@]}" backup "$work/no-such-dir"
expect 2 "nothing to back up" "$sb" "${R[@]}" backup
expect 2 "not a snapshot id" "$sb" "${R[@]}" ls xyz
expect 1 "no snapshot" "$sb" "${R[@]}" restore 0000abcd -t "$work/out"
expect 2 "expected n/m" "$sb" "${R[@]}" check --read-data-subset 9/7
expect 2 "never forgets everything" "$sb" "${R[@]}" forget
[ "$(listing)" = "$before" ] || { echo "FAIL: refused commands changed the repository" >&2; failures=$((failures + 1)); }

# Keys: a second password opens the repository; passwd replaces the one in use; the last key
# cannot be removed.
echo second >"$work/pw2"
echo third >"$work/pw3"
expect 0 "added key" "$sb" "${R[@]}" key add --new-password-file "$work/pw2"
keys=$("$sb" "${R[@]}" --json key list | wc -l)
[ "$keys" -eq 2 ] || { echo "FAIL: key list shows $keys keys, expected 2" >&2; failures=$((failures + 1)); }
expect 0 "" "$sb" -r "$work/repo" -p "$work/pw2" snapshots
expect 0 "removed the old key" "$sb" -r "$work/repo" -p "$work/pw2" key passwd --new-password-file "$work/pw3"
expect 1 "wrong password" "$sb" -r "$work/repo" -p "$work/pw2" snapshots
expect 0 "" "$sb" -r "$work/repo" -p "$work/pw3" snapshots
last=$("$sb" -r "$work/repo" -p "$work/pw3" --json key list | python3 -c 'import json,sys; print([json.loads(l)["id"] for l in sys.stdin if json.loads(l)["current"]][0][:10])')
first=$("$sb" -r "$work/repo" -p "$work/pw3" --json key list | python3 -c 'import json,sys; print([json.loads(l)["id"] for l in sys.stdin if not json.loads(l)["current"]][0][:10])')
expect 0 "removed key" "$sb" -r "$work/repo" -p "$work/pw3" key remove "$first"
expect 1 "last" "$sb" -r "$work/repo" -p "$work/pw3" key remove "$last"
expect 0 "" "$sb" -r "$work/repo" -p "$work/pw3" key add --new-password-file "$work/pw"

# JSON: a summary line with the snapshot id; an error line with a code, on stdout.
out=$("$sb" "${R[@]}" --json backup "$work/data" 2>/dev/null)
grep -q '"message_type":"summary"' <<<"$out" && grep -q '"snapshot_id":"[0-9a-f]\{64\}"' <<<"$out" ||
  { echo "FAIL: --json backup summary: $out" >&2; failures=$((failures + 1)); }
out=$("$sb" -r "$work/repo" -p "$work/bad" --json snapshots 2>/dev/null)
grep -q '"message_type":"error"' <<<"$out" && grep -q '"code":"unauthenticated"' <<<"$out" ||
  { echo "FAIL: --json error line: $out" >&2; failures=$((failures + 1)); }

expect 0 "every byte verified" "$sb" "${R[@]}" restore latest -t "$work/out" --verify
expect 0 "" diff -r "$work/data" "$work/out/data"
expect 0 "PASSED" "$sb" "${R[@]}" drill
expect 0 "match" "$sb" "${R[@]}" verify --source
echo changed >>"$work/data/a.txt"
expect 3 "a.txt" "$sb" "${R[@]}" verify --source

# A read-only repository (immutable: root cannot write either): the backup fails with the
# reason and leaves the repository as it was.
if chattr +i "$work/repo/data" "$work/repo/index" "$work/repo/snapshots" "$work/repo/locks" 2>/dev/null; then
  before=$(listing)
  expect 1 "" "$sb" "${R[@]}" backup "$work/data"
  chattr -i "$work/repo/data" "$work/repo/index" "$work/repo/snapshots" "$work/repo/locks"
  [ "$(listing)" = "$before" ] || { echo "FAIL: a refused backup changed a read-only repository" >&2; failures=$((failures + 1)); }
else
  echo "cli_test: this filesystem has no immutable flag; the read-only case is skipped" >&2
fi

# A flipped bit in a pack: check --read-data exits 3 naming the pack and the file it holds.
pack=$(find "$work/repo/data" -type f -size +100k | head -1)
python3 - "$pack" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[1000] ^= 1
open(p, "wb").write(bytes(b))
EOF
expect 0 "no damage found" "$sb" "${R[@]}" check
expect 3 "$(basename "$pack")" "$sb" "${R[@]}" check --read-data
expect 3 "sub/b.bin" "$sb" "${R[@]}" check --read-data
expect 3 "FAILED" "$sb" "${R[@]}" drill

[ "$failures" -eq 0 ] || { echo "cli_test: $failures failure(s)" >&2; exit 1; }
echo "cli_test: all passed" >&2

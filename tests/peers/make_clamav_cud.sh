#!/bin/sh
# make_clamav_cud.sh OUT.cud VERSION EPOCH SIGFILE...
#
# Builds an unsigned ClamAV database container (the .cud format freshclam writes for
# incremental updates) from local signature files, with a chosen database version and build
# time, so tests can make clamd report "ClamAV <engine>/<VERSION>/<ctime(EPOCH)>" offline.
# Nothing is downloaded and no official signature is used.
#
# Format (what clamd's loader checks): a 512-byte space-padded ASCII header
#   ClamAV-VDB:<dd Mon YYYY HH-MM +0000>:<version>:<nsigs>:<flevel>:<md5 of the rest>:X:<builder>:<epoch>
# followed by a tar.gz holding COPYING, <name>.info and the signature files. <name>.info repeats
# the header (md5 and signature as X) and lists "file:size:sha256" for each signature file; clamd
# refuses the container ("Corrupted CVD header") when the two headers disagree.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 OUT.cud VERSION EPOCH SIGFILE..." >&2; exit 2; }
out=$1; version=$2; epoch=$3; shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=$(basename "$out" .cud)
stamp=$(date -u -d "@$epoch" '+%d %b %Y %H-%M +0000')
flevel=90
members=""
nsigs=0
for f in "$@"; do
  member="$base.${f##*.}"
  cp "$f" "$work/$member"
  members="$members $member"
  nsigs=$((nsigs + $(grep -c . "$f")))
done
echo "ClamAV-VDB:$stamp:$version:$nsigs:$flevel:X:X:steadfast-test:$epoch" > "$work/$base.info"
for member in $members; do
  size=$(stat -c %s "$work/$member")
  sum=$(sha256sum < "$work/$member" | cut -d' ' -f1)
  echo "$member:$size:$sum" >> "$work/$base.info"
done
echo "Test database made by steadfast's tests from local signatures only." > "$work/COPYING"
# shellcheck disable=SC2086  # $members is a list of plain file names
(cd "$work" && tar --owner=0 --group=0 --numeric-owner -czf body.tgz COPYING "$base.info" $members)
md5=$(md5sum < "$work/body.tgz" | cut -d' ' -f1)
printf '%-512s' "ClamAV-VDB:$stamp:$version:$nsigs:$flevel:$md5:X:steadfast-test:$epoch" > "$out"
cat "$work/body.tgz" >> "$out"

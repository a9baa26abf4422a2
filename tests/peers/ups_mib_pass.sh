#!/bin/sh
# ups_mib_pass.sh STATE_FILE -g|-n OID
#
# An snmpd "pass" program (snmpd.conf: pass .1.3.6.1.2.1.33 /bin/sh ups_mib_pass.sh STATE_FILE)
# that serves a simulated UPS's RFC 1628 UPS-MIB objects from STATE_FILE, so tests can read a UPS
# over real SNMP from a real snmpd and change its state while it runs. STATE_FILE has one object
# per line, "OID TYPE VALUE" (TYPE as pass expects: integer, gauge, counter, timeticks, string,
# objectid), e.g. ".1.3.6.1.2.1.33.1.4.1.0 integer 5". Replace the file atomically (write a new
# file, rename it over) to change the UPS; snmpd runs this program for every request.
#
# -g OID: the object itself; -n OID: the first object after OID (dotted OIDs order like version
# numbers, so `sort -V` gives MIB order). Prints nothing for "no such object".
state=$1
mode=$2
req=$3
case "$mode" in
  -g) oid=$req ;;
  -n) oid=$( (cut -d' ' -f1 "$state"; echo "$req") | sort -V -u |
             awk -v r="$req" 'found { print; exit } $0 == r { found = 1 }') ;;
  *) exit 0 ;;
esac
[ -n "$oid" ] || exit 0
awk -v o="$oid" '$1 == o {
  print $1; print $2
  v = $0; sub(/^[^ ]+ [^ ]+ /, "", v); print v
  exit
}' "$state"

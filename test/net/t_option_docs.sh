#!/bin/bash
# Documentation keeps up with the code:
#   * every variable in src/config/conf_options.c has an entry in doc/tinc.conf.5;
#     one marked not implemented there says "not yet implemented" in its
#     entry, one marked implemented does not; extensions say "fqtinc extension";
#   * every long option of src/daemon/tincd.c appears in doc/tincd.8;
#   * every variable (except VDE ones: no VDE device) can be set from UCI by
#     openwrt/files/tinc.init, host variables in tinc-host sections too;
#   * both pages format without groff warnings.
# Needs no root and no daemon.
. "$(dirname "$0")/lib.sh"

OPTS="$top_srcdir/src/config/conf_options.c"
PAGE5="$top_srcdir/doc/tinc.conf.5"
PAGE8="$top_srcdir/doc/tincd.8"
INIT="$top_srcdir/openwrt/files/tinc.init"
for f in "$OPTS" "$PAGE5" "$PAGE8" "$INIT" "$top_srcdir/src/daemon/tincd.c"; do
	[ -f "$f" ] || skip "missing $f"
done

# "KIND NAME IMPLEMENTED" for each table row, e.g. "SERVER Proxy false"
table=$(sed -n 's/^[[:space:]]*\(SERVER\|HOST\|EXTENSION\)("\([A-Za-z0-9]*\)", *[A-Z_a-z]*, *\(true\|false\)).*/\1 \2 \3/p' "$OPTS")
count=$(printf '%s\n' "$table" | grep -c .)
check_cmp "options found in conf_options.c" "$count" -ge 50

# entry NAME: the text of the .TP entry of tinc.conf.5 whose header line
# names NAME as a word (header first, then the body up to the next .TP,
# section, or paragraph outside an .RS block).
entry() {
	awk -v want="$1" '
		/^\.RS/ { depth++ }
		/^\.RE/ { depth-- }
		/^\.(TP|SH|SS)/ || (/^\.PP/ && depth == 0) { if (found) exit; header = ($1 == ".TP"); next }
		header == 1 { n = split($0, w, /[ "]+/); for (i = 1; i <= n; i++) if (w[i] == want) found = 1; header = 2 }
		found { print }' "$PAGE5"
}

missing=() marked_wrong=() ext_wrong=()
while read -r kind name impl; do
	[ -n "$name" ] || continue
	text=$(entry "$name")
	if [ -z "$text" ]; then
		missing+=("$name")
		continue
	fi
	flat=${text//$'\n'/ }
	if [[ ${flat,,} == *"not yet implemented"* ]]; then said=false; else said=true; fi
	[ "$said" = "$impl" ] || marked_wrong+=("$name(code:$impl)")
	if [ "$kind" = EXTENSION ]; then
		# the header line, without a pipe: grep -q quitting early would make
		# head die of SIGPIPE, a failure under pipefail
		[[ ${text%%$'\n'*} == *"fqtinc extension"* ]] || ext_wrong+=("$name")
	fi
done <<<"$table"
check_eq "variables without an entry in tinc.conf.5" "" "${missing[*]}"
check_eq "entries whose implemented/not-yet-implemented wording disagrees with conf_options.c" "" "${marked_wrong[*]}"
check_eq "extensions not marked as fqtinc extension" "" "${ext_wrong[*]}"

# tincd.8 and the long options
longopts=$(sed -n 's/^[[:space:]]*{"\([a-z-]*\)", *[a-z_]*_argument.*/\1/p' "$top_srcdir/src/daemon/tincd.c")
check_cmp "long options found in tincd.c" "$(printf '%s\n' "$longopts" | grep -c .)" -ge 10
undocumented=()
for o in $longopts; do
	grep -q -- "\\\\-\\\\-${o//-/\\\\-}" "$PAGE8" || undocumented+=("--$o")
done
check_eq "long options missing from tincd.8" "" "${undocumented[*]}"

# UCI coverage of the init script
net_list=$(sed -n '/^TINC_NET_BOOLS=/,/^TINC_HOST_BOOLS=/p' "$INIT" | tr -c 'A-Za-z0-9_' ' ')
host_list=$(sed -n '/^TINC_HOST_BOOLS=/,/^# Options of net/p' "$INIT" | tr -c 'A-Za-z0-9_' ' ')
no_uci=() no_uci_host=()
while read -r kind name impl; do
	case "$name" in VDEGroup | VDEPort | "") continue ;; esac
	grep -q " $name " <<<" $(printf ' %s ' $net_list) " || no_uci+=("$name")
	if [ "$kind" = HOST ]; then
		grep -q " $name " <<<" $(printf ' %s ' $host_list) " || no_uci_host+=("$name")
	fi
done <<<"$table"
check_eq "variables tinc-net sections cannot set" "" "${no_uci[*]}"
check_eq "host variables tinc-host sections cannot set" "" "${no_uci_host[*]}"

# formatting
if command -v groff >/dev/null 2>&1; then
	for p in "$PAGE5" "$PAGE8"; do
		w=$(LC_ALL=C groff -man -ww -z -Tutf8 "$p" 2>&1)
		check_eq "groff warnings for $(basename "$p")" "" "$w"
	done
else
	note "groff not installed: formatting not checked"
fi

finish

#!/bin/bash
# Path MTU discovery and the "frag needed" answers of router mode, against tinc.
#
#   A_DAEMON (default fq), B_DAEMON (default tinc): fq | tinc | path
#   PMTU_OUTER  outer families to test, default "4 6"
#
# After discovery settles, the largest DF ping that tinc 1.0.36 lets through
# on the same path passes and one byte more is refused with "frag needed" /
# "packet too big" carrying the tunnel MTU.  Expected values (protocol.md §5.10, §6.5,
# AES-256-CBC + 4-byte MAC, 1500-byte links):
#   outer IPv4: frame 1451 -> ICMP mtu 1437 -> ping payload 1409 (IPv6: 1389)
#   outer IPv6: frame 1435 -> ICMP mtu 1421 -> ping payload 1393 (IPv6: 1373)
# Checked in both directions, for IPv4 and IPv6 inner packets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc}")
PMTU_OUTER=${PMTU_OUTER:-4 6}

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), outer families: $PMTU_OUTER"
topo_pair

# check_limit SRC_NS DST_ADDR MAXPAYLOAD MTU LABEL
check_limit() {
	local ns=$1 addr=$2 max=$3 mtu=$4 label=$5 r
	# the largest payload must pass (allow a lost packet or two)
	if wait_for "[ \"\$(pmtu_ping $ns $addr $max cached)\" = ok ]" 3; then
		pass "$label: DF ping with $max bytes passes"
	else
		fail "$label: DF ping with $max bytes passes (got: $(pmtu_ping "$ns" "$addr" "$max" cached))"
	fi
	# one more byte must be refused by the tunnel with the tunnel MTU; tinc
	# sends at most 3 ICMP errors per second, so poll rather than try once
	r=lost
	wait_for "r=\$(pmtu_ping $ns $addr $((max + 1))); [ \"\$r\" != lost ]" 3
	check_eq "$label: DF ping with $((max + 1)) bytes gets frag needed, mtu $mtu" "toobig $mtu" "$r"
}

round=0
for outer in $PMTU_OUTER; do
	round=$((round + 1))
	if [ "$outer" = 6 ]; then frame=1435; else frame=1451; fi
	mtu=$((frame - 14))
	a=alpha$outer
	b=beta$outer
	make_node "$NS_A" "$a" "$A_DAEMON" af="$outer" || finish
	make_node "$NS_B" "$b" "$B_DAEMON" af="$outer" || finish
	connect_to "$a" "$b"
	exchange_hosts "$a" "$b"
	[ "$round" = 1 ] && counters_start "$NS_R" $(seq 6601 6609)
	start_node "$b" || finish
	start_node "$a" || finish
	check_ping "outer IPv$outer: ping A -> B" "$NS_A" "$(vpn4 "$b")" 20

	for dir in ab ba; do
		if [ $dir = ab ]; then src=$NS_A dst=$b lbl="outer IPv$outer, A -> B"; else src=$NS_B dst=$a lbl="outer IPv$outer, B -> A"; fi
		wait_for "pmtu_settled $src $(vpn4 "$dst") && [ \$SETTLED_MTU = $mtu ]" 30
		note "$lbl: inner MTU after ${WAITED}s: ${SETTLED_MTU:-not settled}"
		check_limit "$src" "$(vpn4 "$dst")" $((mtu - 28)) "$mtu" "$lbl, IPv4 inner"
		check_limit "$src" "$(vpn6 "$dst")" $((mtu - 48)) "$mtu" "$lbl, IPv6 inner"
	done
	for n in "$a" "$b"; do
		check "$n still running" node_alive "$n"
	done
	stop_node "$a"
	stop_node "$b"
done
finish

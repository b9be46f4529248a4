#!/bin/bash
# Three nodes A - B - C on one router; ConnectTo only A -> B and C -> B, and A
# and C never get each other's host file: everything they know of each other
# (edges, subnets, packet keys) comes through B.
#
#   A_DAEMON, B_DAEMON, C_DAEMON   fq | tinc | path   (default fq, tinc, fq)
#   OUTER                          4 | 6              (default 4)
#
# Phase 1: pings A <-> C in both families; A then sends UDP straight to C
#          (no meta connection between them: no TCP between A and C at all).
# Phase 2: IndirectData = yes on C: pings and a transfer A <-> C still work,
#          and a capture at A's router port shows A sending UDP only to B.
#
# Common body of t_chain3_*.sh; run bare (no variables set) it skips.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

if [ -z "${A_DAEMON:-}${B_DAEMON:-}${C_DAEMON:-}" ]; then
	echo "SKIP: common script of the t_chain3_*.sh tests; set A_DAEMON/B_DAEMON/C_DAEMON to run it by hand"
	exit 77
fi

. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc}")
C_DAEMON=$(resolve_daemon "${C_DAEMON:-fq}")
OUTER=${OUTER:-4}

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
need_daemon "$C_DAEMON"
require_tools tcpdump
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), C = $(daemon_label "$C_DAEMON"), outer IPv$OUTER"

topo_chain3
make_node "$NS_A" alpha "$A_DAEMON" af="$OUTER" || finish
make_node "$NS_B" beta "$B_DAEMON" af="$OUTER" || finish
make_node "$NS_C" gamma "$C_DAEMON" af="$OUTER" || finish
connect_to alpha beta
connect_to gamma beta
exchange_hosts alpha beta
exchange_hosts gamma beta

if [ "$OUTER" = 6 ]; then
	oa=$(outer6 alpha) ob=$(outer6 beta) oc=$(outer6 gamma)
else
	oa=$(outer4 alpha) ob=$(outer4 beta) oc=$(outer4 gamma)
fi
a_port=${NODE_IF[alpha]}
rif_a=${NS_RIF[$NS_A]}

start_all() {
	start_node beta && start_node alpha && start_node gamma
}

# packets A sent to DEST by PROTO so far in capture TAG
sent_by_a() { pcap_sum "$1" "$2" "$oa" "$3" | awk '{print $1}'; }

# ---- phase 1: direct
capture_start "$NS_R" "$rif_a" direct || finish
start_all || finish
check_ping "phase 1: IPv4 ping A -> C" "$NS_A" "$(vpn4 gamma)" 20
check_ping "phase 1: IPv6 ping A -> C" "$NS_A" "$(vpn6 gamma)" 10
check_ping "phase 1: IPv4 ping C -> A" "$NS_C" "$(vpn4 alpha)" 10
check_ping "phase 1: IPv6 ping C -> A" "$NS_C" "$(vpn6 alpha)" 10
a_udp_to_c() {
	ping_ok "$NS_A" "$(vpn4 gamma)"
	[ "$(sent_by_a direct udp "$oc")" -gt 0 ]
}
if wait_for a_udp_to_c 15; then
	pass "phase 1: A sends UDP directly to C (after ${WAITED}s)"
else
	fail "phase 1: A sends UDP directly to C (none within 15 s)"
fi
capture_stop direct
note "phase 1 from A: UDP to B $(sent_by_a direct udp "$ob") packets, UDP to C $(sent_by_a direct udp "$oc"), TCP to B $(sent_by_a direct tcp "$ob"), TCP to C $(sent_by_a direct tcp "$oc")"
check_eq "phase 1: no TCP between A and C (no meta connection)" 0 \
	"$(($(sent_by_a direct tcp "$oc") + $(pcap_sum direct tcp "$oc" "$oa" | awk '{print $1}')))"
stop_all_nodes

# ---- phase 2: IndirectData on C
node_set gamma IndirectData=yes
exchange_hosts gamma beta
capture_start "$NS_R" "$rif_a" indirect || finish
start_all || finish
check_ping "phase 2: IPv4 ping A -> C" "$NS_A" "$(vpn4 gamma)" 20
check_ping "phase 2: IPv6 ping A -> C" "$NS_A" "$(vpn6 gamma)" 10
check_ping "phase 2: IPv4 ping C -> A" "$NS_C" "$(vpn4 alpha)" 10
check_ping "phase 2: IPv6 ping C -> A" "$NS_C" "$(vpn6 alpha)" 10
# tinc sends frames above the PMTU it has confirmed toward B over the meta
# connection: wait until a big ping to C crosses by UDP (B relays it), so the
# transfers below measure the relay path and not how far discovery got.
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" "${NODE_PORT[gamma]}" || fail "nft counters on the router"
check "phase 2: 1300-byte pings A -> C go by UDP" wait_udp_path "$NS_A" "$(vpn4 gamma)" 1300 40
# Give A reason and time to try a direct path: keep traffic flowing for a few
# seconds (PMTU probing and key exchange run once per second).
check "phase 2: transfer A -> C, 2 MB intact" transfer ac "$NS_A" "$NS_C" "$(vpn4 gamma)" $((2 * MB))
check "phase 2: transfer C -> A, 2 MB intact" transfer ca "$NS_C" "$NS_A" "$(vpn6 alpha)" $((2 * MB)) --seed 3
nsx "$NS_A" ping -n -q -c 20 -i 0.2 -W 1 "$(vpn4 gamma)" | grep -E 'transmitted|rtt' | sed 's/^/# A -> C: /'
capture_stop indirect
to_b=$(sent_by_a indirect udp "$ob")
to_c=$(sent_by_a indirect udp "$oc")
note "phase 2 from A: UDP to B $to_b packets, UDP to C $to_c, TCP to C $(sent_by_a indirect tcp "$oc"); C sent $(pcap_sum indirect udp "$oc" "$oa" | awk '{print $1}') UDP packets to A"
check_cmp "phase 2: A sends UDP to B (relay)" "$to_b" -gt 100
check_eq "phase 2: A sends no UDP to C" 0 "$to_c"
check_eq "phase 2: A sends no TCP to C" 0 "$(sent_by_a indirect tcp "$oc")"

for n in alpha beta gamma; do check "$n still running" node_alive "$n"; done
finish

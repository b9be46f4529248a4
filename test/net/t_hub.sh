#!/bin/bash
# Hub mode (Mode = hub, DeviceType = tap): every frame is flooded over the
# broadcast tree, by tinc 1.0.36 and by fqtinc alike.
#
#   alpha (fq) -- beta (tinc) -- gamma (fq) -- delta (fq)      (ConnectTo)
#
# Pings between the ends cross two relays.  While alpha pings beta, the
# echo requests (unicast frames for beta's MAC) also show up on gamma's and
# delta's taps: beta (tinc) flooded them to gamma, and gamma (fqtinc) passed
# them on to delta.  And while delta pings alpha, beta's tap sees them too.
#
#   HUB_A, HUB_B, HUB_C, HUB_D   daemons (default fq, tinc, fq, fq)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

HUB_A=$(resolve_daemon "${HUB_A:-fq}")
HUB_B=$(resolve_daemon "${HUB_B:-tinc}")
HUB_C=$(resolve_daemon "${HUB_C:-fq}")
HUB_D=$(resolve_daemon "${HUB_D:-fq}")
for d in "$HUB_A" "$HUB_B" "$HUB_C" "$HUB_D"; do need_daemon "$d"; done
require_tools tcpdump
setup_test

NS_R=$NS_PREFIX-r
topo_star "$NS_R" "$NS_PREFIX-a" "$NS_PREFIX-b" "$NS_PREFIX-c" "$NS_PREFIX-d"
HUB="Mode=hub DeviceType=tap"
# shellcheck disable=SC2086
{
	make_node "$NS_PREFIX-a" alpha "$HUB_A" $HUB &&
		make_node "$NS_PREFIX-b" beta "$HUB_B" $HUB &&
		make_node "$NS_PREFIX-c" gamma "$HUB_C" $HUB &&
		make_node "$NS_PREFIX-d" delta "$HUB_D" $HUB
} || finish
connect_to alpha beta
connect_to gamma beta
connect_to delta gamma
exchange_hosts alpha beta
exchange_hosts gamma beta
exchange_hosts delta gamma
start_node beta && start_node alpha && start_node gamma && start_node delta || finish

ns_of() { echo "${NODE_NS[$1]}"; }
check_ping "ping alpha -> delta (two relays)" "$(ns_of alpha)" "$(vpn4 delta)" 20
check_ping "ping delta -> alpha" "$(ns_of delta)" "$(vpn4 alpha)" 10
check_ping "IPv6 ping alpha -> delta" "$(ns_of alpha)" "$(vpn6 delta)" 10
check_ping "ping gamma -> beta" "$(ns_of gamma)" "$(vpn4 beta)" 10
check_ping "ping alpha -> gamma" "$(ns_of alpha)" "$(vpn4 gamma)" 10

# echo_requests TAG SRC DST: echo requests SRC -> DST in capture TAG
echo_requests() {
	tcpdump -r "$TMP/$1.pcap" -n "icmp and src host $2 and dst host $3" 2>/dev/null | grep -c 'echo request'
}

flood_check() { # NAME_FROM NAME_TO WATCHER...
	local from=$1 to=$2 w n out
	shift 2
	for w in "$@"; do
		capture_start "$(ns_of "$w")" "${NODE_IF[$w]}" "flood-$w" icmp || return 1
	done
	out=$(nsx "$(ns_of "$from")" ping -n -c 5 -i 0.2 -W 1 "$(vpn4 "$to")" 2>&1)
	n=$?
	check_eq "5 pings $from -> $to answered" 0 "$n"
	check_eq "no duplicate replies (no flooding loop)" 0 "$(echo "$out" | grep -c 'DUP!')"
	for w in "$@"; do
		# tcpdump hands packets over in blocks: give it time to write them
		wait_for "[ \$(echo_requests flood-$w $(vpn4 "$from") $(vpn4 "$to")) -ge 5 ]" 3
		capture_stop "flood-$w"
		check_eq "$w's tap saw the 5 echo requests $from -> $to (flooded)" 5 \
			"$(echo_requests "flood-$w" "$(vpn4 "$from")" "$(vpn4 "$to")")"
	done
}
flood_check alpha beta gamma delta
flood_check delta alpha beta

for n in alpha beta gamma delta; do check "$n still running" node_alive "$n"; done
finish

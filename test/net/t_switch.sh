#!/bin/bash
# Switch mode (Mode = switch, DeviceType = tap) against tinc 1.0.36.
#
# Phase 1, two nodes, alpha (fqtinc) - beta (tinc): IPv4 and IPv6 pings
#   across the taps; ARP across (alpha's neighbour table holds beta's tap
#   MAC); alpha learned beta's MAC from beta's ADD_SUBNET (USR2 dump).
# Phase 2, three nodes, alpha (fqtinc) - beta (tinc) - gamma (fqtinc), no
#   meta connection between alpha and gamma: pings between every pair.
#   A "guest" with its own MAC (a macvlan on the tap, moved into a namespace
#   of its own) talks from behind alpha, then moves behind gamma: it must be
#   reachable from beta again within seconds although MACExpire is 20 s on
#   the fqtinc nodes (fast handoff, protocol.md §3.5 ADD_SUBNET step 6: alpha expires
#   its copy when gamma announces the MAC, so DEL_SUBNET reaches beta).
#   Then the guest disappears: gamma's learned MAC ages out after MACExpire
#   and beta receives DEL_SUBNET for it.
#
#   SW_A, SW_B, SW_C   daemons (default fq, tinc, fq)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

SW_A=$(resolve_daemon "${SW_A:-fq}")
SW_B=$(resolve_daemon "${SW_B:-tinc}")
SW_C=$(resolve_daemon "${SW_C:-fq}")
need_daemon "$SW_A"
need_daemon "$SW_B"
need_daemon "$SW_C"
DEBUG_LEVEL=4 # request contents: DEL_SUBNETs are checked in the receivers' logs
setup_test

topo_chain3
NS_G=$NS_PREFIX-g
ns_create "$NS_G"
GUEST_MAC=02:00:5e:10:00:64
GUEST_TMAC=2:0:5e:10:0:64
GUEST_IP=10.10.0.100
MACEXPIRE=20

SW="Mode=switch DeviceType=tap MACExpire=$MACEXPIRE PingInterval=10"
# shellcheck disable=SC2086
make_node "$NS_A" alpha "$SW_A" $SW || finish
# shellcheck disable=SC2086
make_node "$NS_B" beta "$SW_B" $SW || finish
# shellcheck disable=SC2086
make_node "$NS_C" gamma "$SW_C" $SW || finish
connect_to alpha beta
connect_to gamma beta
exchange_hosts alpha beta
exchange_hosts gamma beta

if_mac() { ip -n "$1" -br link show dev "$2" | awk '{print $3}'; }
# MAC in tinc's subnet string form: hex without leading zeros
tinc_mac() {
	local IFS=: b out=
	for b in $1; do out+="$(printf '%x' "0x$b"):"; done
	echo "${out%:}"
}

# subnet_dump NAME: USR2 the daemon (ours only) and print its subnet list
subnet_dump() {
	local name=$1 log=${NODE_DIR[$1]}/log before
	before=$(grep -c -E 'End of (subnet list|subnets)' "$log")
	kill -USR2 "${NODE_PID[$name]}"
	wait_for "[ \$(grep -c -E 'End of (subnet list|subnets)' $log) -gt $before ]" 5 || return 1
	awk -v n="$before" '/Subnet list:|Subnets:/ { k++; p = (k > n) } p' "$log" | sed -n -E '/Subnet list:|Subnets:/,/End of (subnet list|subnets)/p'
}

# has_subnet NAME REGEX: NAME's USR2 dump lists a subnet matching REGEX
has_subnet() { subnet_dump "$1" | grep -q -E -- "$2"; }

# ---------------------------------------------------------------- phase 1
start_node beta && start_node alpha || finish
mac_a=$(if_mac "$NS_A" vpn1)
mac_b=$(if_mac "$NS_B" vpn2)
tmac_a=$(tinc_mac "$mac_a")
tmac_b=$(tinc_mac "$mac_b")
note "tap MACs: alpha $mac_a, beta $mac_b"
check_ping "2 nodes: IPv4 ping alpha -> beta across the taps" "$NS_A" "$(vpn4 beta)" 20
check_ping "2 nodes: IPv6 ping alpha -> beta" "$NS_A" "$(vpn6 beta)" 10
check_ping "2 nodes: IPv4 ping beta -> alpha" "$NS_B" "$(vpn4 alpha)" 10
neigh=$(ip -n "$NS_A" neigh show "$(vpn4 beta)" dev vpn1 | awk '{print $3}')
check_eq "2 nodes: ARP across: alpha resolved beta's address to beta's tap MAC" "$mac_b" "$neigh"
if wait_for "has_subnet alpha '^ *$tmac_b#10 owner beta'" 5; then
	pass "2 nodes: alpha holds beta's MAC as a subnet of beta"
else
	fail "2 nodes: alpha holds beta's MAC as a subnet of beta"
fi
if wait_for "has_subnet alpha '^ *$tmac_a#10 owner alpha'" 5; then
	pass "2 nodes: alpha learned its own tap MAC"
else
	fail "2 nodes: alpha learned its own tap MAC"
fi

# ---------------------------------------------------------------- phase 2
start_node gamma || finish
mac_c=$(if_mac "$NS_C" vpn3)
check_ping "3 nodes: ping alpha -> gamma (relayed meta through beta)" "$NS_A" "$(vpn4 gamma)" 20
check_ping "3 nodes: ping gamma -> alpha" "$NS_C" "$(vpn4 alpha)" 10
check_ping "3 nodes: ping gamma -> beta" "$NS_C" "$(vpn4 beta)" 10
check_ping "3 nodes: IPv6 ping gamma -> alpha" "$NS_C" "$(vpn6 alpha)" 10
neigh=$(ip -n "$NS_A" neigh show "$(vpn4 gamma)" dev vpn1 | awk '{print $3}')
check_eq "3 nodes: ARP across two hops: alpha resolved gamma to gamma's tap MAC" "$mac_c" "$neigh"

# guest_at NS IFACE: (re)create the guest behind the tap IFACE of namespace NS
guest_at() {
	ip -n "$NS_G" link del guest 2>/dev/null
	ip -n "$1" link add guest link "$2" address "$GUEST_MAC" type macvlan mode bridge &&
		ip -n "$1" link set guest netns "$NS_G" &&
		ip -n "$NS_G" addr add "$GUEST_IP/24" dev guest &&
		ip -n "$NS_G" link set guest up
}

guest_at "$NS_A" vpn1 || { fail "cannot create the guest macvlan"; finish; }
check_ping "guest behind alpha: ping guest -> beta" "$NS_G" "$(vpn4 beta)" 10
check_ping "guest behind alpha: ping beta -> guest" "$NS_B" "$GUEST_IP" 5
if wait_for "has_subnet alpha '^ *$GUEST_TMAC#10 owner alpha'" 5; then
	pass "alpha learned the guest's MAC"
else
	fail "alpha learned the guest's MAC"
fi

# Move: the guest now sits behind gamma.  beta's neighbour entry for the
# guest stays valid, so beta keeps sending to the guest's MAC.
guest_at "$NS_C" vpn3 || { fail "cannot move the guest"; finish; }
moved=$(now_ms)
if wait_for "ping_ok $NS_G $(vpn4 beta) && ping_ok $NS_B $GUEST_IP" 10; then
	pass "guest moved behind gamma: reachable again after ${WAITED}s (MACExpire ${MACEXPIRE}s)"
else
	fail "guest moved behind gamma: not reachable within 10 s"
fi
if wait_for "has_subnet gamma '^ *$GUEST_TMAC#10 owner gamma'" 5; then
	pass "gamma learned the guest's MAC"
else
	fail "gamma learned the guest's MAC"
fi
if wait_for "! has_subnet alpha '^ *$GUEST_TMAC#10 owner alpha'" 5; then
	pass "alpha dropped its copy of the guest's MAC (fast handoff, $(($(now_ms) - moved)) ms after the move)"
else
	fail "alpha still holds the guest's MAC after the move"
fi
check "beta received alpha's DEL_SUBNET for the guest's MAC" \
	wait_for "[ \$(log_count beta 'Got DEL_SUBNET from alpha .*: 11 [0-9a-f]+ alpha $GUEST_TMAC#10') -ge 1 ]" 2

# Aging: the guest goes silent; gamma withdraws the MAC after MACExpire.
ip -n "$NS_G" link del guest
gone=$(now_ms)
if wait_for "[ \$(log_count beta 'Got DEL_SUBNET from gamma .*: 11 [0-9a-f]+ gamma $GUEST_TMAC#10') -ge 1 ]" $((MACEXPIRE + 10)); then
	secs=$(ms_to_s $(($(now_ms) - gone)))
	pass "gamma aged out the guest's MAC: DEL_SUBNET at beta ${secs}s after the guest went silent"
	check_cmp "... not before MACExpire (${MACEXPIRE}s)" "$(to_ms "$secs")" -ge $((MACEXPIRE * 1000 - 2000))
else
	fail "gamma did not age out the guest's MAC within $((MACEXPIRE + 10)) s"
fi
if wait_for "! has_subnet alpha '$GUEST_TMAC#'" 5; then
	pass "alpha no longer lists the guest's MAC anywhere"
else
	fail "alpha still lists the guest's MAC"
fi
check_ping "after the aging: ping alpha -> gamma still works" "$NS_A" "$(vpn4 gamma)" 5

for n in alpha beta gamma; do check "$n still running" node_alive "$n"; done
finish

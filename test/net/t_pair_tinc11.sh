#!/bin/bash
# fqtinc and tinc 1.1pre18 as a pair: two nodes A and B, one meta connection
# (legacy protocol 17: the 1.1 node has no Ed25519 key), a router between.
#
#   A_DAEMON, B_DAEMON  fq | tinc11 | tinc | path              (default fq, tinc11)
#   INITIATOR           a | b    (which node has ConnectTo)      default a
#   OUTER               4 | 6    (family of the outer packets)   default 4
#   XFER_MB             size of each of the two transfers       default 4
#
# Checks, in both directions: IPv4 and IPv6 pings; PMTU discovery settles (an
# oversized DF ping is answered "frag needed", a ping of the reported size
# crosses by UDP); 3000-byte pings without DF, which the sending kernel
# splits into 1500-byte fragments that the daemon must cut to the path MTU
# (IPv4) or answer with "packet too big" (IPv6), cross by UDP; a transfer
# arrives intact and the tunnel carried it by UDP, not the TCP fallback.
#
# Common body of t_pair_fq_tinc11.sh and t_pair_tinc11_fq.sh; run bare (no
# variables set) it skips, so `make check` does not run a pair twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

if [ -z "${A_DAEMON:-}${B_DAEMON:-}${INITIATOR:-}" ]; then
	echo "SKIP: common script of the t_pair_*tinc11*.sh tests; set A_DAEMON/B_DAEMON to run it by hand"
	exit 77
fi

TEST_TIMEOUT=${TEST_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc11}")
INITIATOR=${INITIATOR:-a}
OUTER=${OUTER:-4}
XFER_MB=${XFER_MB:-4}
BIG=3000

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), initiator ${INITIATOR^^}, outer IPv$OUTER"

topo_pair
# the router counts datagrams, as behind network cards (nic_links)
nic_links "$NS_A" "$NS_B" || skip "cannot limit GSO on the links"
make_node "$NS_A" alpha "$A_DAEMON" af="$OUTER" || finish
make_node "$NS_B" beta "$B_DAEMON" af="$OUTER" || finish
if [ "$INITIATOR" = a ]; then connect_to alpha beta; else connect_to beta alpha; fi
exchange_hosts alpha beta
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" || fail "nft counters on the router"

# the listening side first, so the first connection attempt succeeds
if [ "$INITIATOR" = a ]; then order="beta alpha"; else order="alpha beta"; fi
for n in $order; do start_node "$n" || finish; done

check_ping "IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
check_ping "IPv4 ping B -> A" "$NS_B" "$(vpn4 alpha)" 10
check_ping "IPv6 ping A -> B" "$NS_A" "$(vpn6 beta)" 10
check_ping "IPv6 ping B -> A" "$NS_B" "$(vpn6 alpha)" 10

# Until PMTU discovery has settled, frames longer than the confirmed minimum
# go over the meta connection (TCP).
check "PMTU A -> B settles" wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
mtu_ab=$SETTLED_MTU
check "PMTU B -> A settles" wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30
note "tunnel MTU reported to inner hosts: A -> B ${mtu_ab:-?}, B -> A ${SETTLED_MTU:-?}"

# flush_pmtu NODE...: the nodes' kernels forget the path MTUs they learnt
flush_pmtu() {
	local n
	for n in "$@"; do
		ip -n "${NODE_NS[$n]}" route flush cache 2>/dev/null
		ip -n "${NODE_NS[$n]}" -6 route flush cache 2>/dev/null
	done
}

# big_ping_udp SRC DST FAMILY: a BIG-byte ping from node SRC to node DST is
# answered and went by UDP.  IPv4, without DF: with the path MTUs forgotten,
# the kernels send 1500-byte fragments, longer than the tunnel's MTU, and
# the daemon must cut each in two (more than 3 datagrams towards DST;
# BIG_DGRAMS = how many).  IPv6 has no fragmenting on the way: the daemons
# answer "packet too big", and the kernels (flushed once before the polling)
# learn the MTU from that, so the first tries may be lost.
big_ping_udp() {
	local src=$1 dst=$2 port=${NODE_PORT[$2]} before
	if [ "$3" = 4 ]; then
		flush_pmtu "$src" "$dst"
		counters_read
		before=${UDP_TO_PKTS[$port]}
		udp_path_ok "${NODE_NS[$src]}" "$(vpn4 "$dst")" "$BIG" -M dont || return 1
		BIG_DGRAMS=$((${UDP_TO_PKTS[$port]} - before))
		[ "$BIG_DGRAMS" -gt 3 ]
	else
		udp_path_ok "${NODE_NS[$src]}" "$(vpn6 "$dst")" "$BIG"
	fi
}
for dir in "A B alpha beta" "B A beta alpha"; do
	read -r from to src dst <<<"$dir"
	if wait_for "big_ping_udp $src $dst 4" 10; then
		pass "IPv4 $BIG-byte ping $from -> $to without DF crosses by UDP, the daemon cut its 1500-byte fragments ($BIG_DGRAMS datagrams; after ${WAITED}s)"
	else
		fail "IPv4 $BIG-byte ping $from -> $to without DF crosses by UDP in more than 3 datagrams (not within 10 s; last: ${BIG_DGRAMS:-none})"
	fi
	flush_pmtu "$src" "$dst"
	if wait_for "big_ping_udp $src $dst 6" 10; then
		pass "IPv6 $BIG-byte ping $from -> $to crosses by UDP (after ${WAITED}s)"
	else
		fail "IPv6 $BIG-byte ping $from -> $to crosses by UDP (not within 10 s)"
	fi
done

counters_reset
bytes=$((XFER_MB * MB))
check "transfer A -> B, $XFER_MB MB intact" transfer ab "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes"
check "transfer B -> A, $XFER_MB MB intact" transfer ba "$NS_B" "$NS_A" "$(vpn6 alpha)" "$bytes" --seed 2
counters_note "during the transfers"
check_cmp "UDP carried at least 2 x $XFER_MB MB" "$UDP_BYTES" -ge $((2 * bytes))
check_cmp "the TCP fallback carried under 1 % of it" "$TCP_BYTES" -lt $((2 * bytes / 100))

check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

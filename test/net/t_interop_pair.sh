#!/bin/bash
# Core acceptance: two nodes A and B, one meta connection, router in between.
#
#   A_DAEMON, B_DAEMON  fq | tinc | /path/to/tincd      (which daemon runs A, B)
#   INITIATOR           a | b    (which node has ConnectTo)           default a
#   OUTER               4 | 6    (family of the outer UDP/TCP packets) default 4
#   XFER_MB             size of each of the two transfers            default 50
#
# Checks: IPv4 and IPv6 pings both ways; an XFER_MB transfer each way arrives
# intact (sha256); the tunnel bytes crossed the router as UDP, not TCP (nft
# counters in the router: UDP carried at least both transfers, and more bytes
# than TCP).
#
# This file is the common body of the t_pair_*.sh wrappers; run bare (no
# variables set) it skips, so `make check` does not run the same pair twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

if [ -z "${A_DAEMON:-}${B_DAEMON:-}${INITIATOR:-}" ]; then
	echo "SKIP: common script of the t_pair_*.sh tests; set A_DAEMON/B_DAEMON to run it by hand"
	exit 77
fi

TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-fq}")
INITIATOR=${INITIATOR:-a}
OUTER=${OUTER:-4}
XFER_MB=${XFER_MB:-50}

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), initiator ${INITIATOR^^}, outer IPv$OUTER, ${XFER_MB} MB each way"

topo_pair
make_node "$NS_A" alpha "$A_DAEMON" af="$OUTER" || finish
make_node "$NS_B" beta "$B_DAEMON" af="$OUTER" || finish
if [ "$INITIATOR" = a ]; then connect_to alpha beta; else connect_to beta alpha; fi
exchange_hosts alpha beta
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}"

# the listening side first, so the first connection attempt succeeds
if [ "$INITIATOR" = a ]; then order="beta alpha"; else order="alpha beta"; fi
for n in $order; do start_node "$n" || finish; done

check_ping "IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
check_ping "IPv4 ping B -> A" "$NS_B" "$(vpn4 alpha)" 10
check_ping "IPv6 ping A -> B" "$NS_A" "$(vpn6 beta)" 10
check_ping "IPv6 ping B -> A" "$NS_B" "$(vpn6 alpha)" 10

# Until PMTU discovery has settled, frames longer than the confirmed minimum
# go over the meta connection (TCP); wait for it in both directions.
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30

counters_reset
bytes=$((XFER_MB * MB))
check "transfer A -> B, $XFER_MB MB intact" transfer ab "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes"
check "transfer B -> A, $XFER_MB MB intact" transfer ba "$NS_B" "$NS_A" "$(vpn6 alpha)" "$bytes" --seed 2

counters_read
note "tunnel traffic during the transfers: UDP $UDP_PKTS packets / $UDP_BYTES bytes, TCP $TCP_PKTS packets / $TCP_BYTES bytes"
check_cmp "UDP carried at least 2 x $XFER_MB MB" "$UDP_BYTES" -ge $((2 * bytes))
check_cmp "most tunnel bytes went over UDP (UDP bytes > TCP bytes)" "$UDP_BYTES" -gt "$TCP_BYTES"

check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

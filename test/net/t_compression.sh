#!/bin/bash
# Compression levels 9 (zlib), 10 (LZO1X-1), 11 (LZO1X-999) and TCPOnly,
# against tinc.  In tinc 1.0 the receiver chooses the level: packets sent to a
# node with Compression = N are compressed with N.  Each level is tried with
# our daemon both compressing and decompressing.
#
#   A_DAEMON (default fq), B_DAEMON (default tinc): fq | tinc | path
#   COMP_MB   size of the transfers, default 5
#
# Per round: pings both ways; a COMP_MB MB compressible (text) transfer and a
# 1 MB random transfer each way arrive intact.  Compression must show on the
# wire: text sent to a compressing receiver takes less than half its size in
# UDP bytes.  TCPOnly rounds: the data crosses the router as TCP, not UDP.
# The inner MTU is lowered to INNER_MTU (default 1280, the IPv6 minimum) in compression rounds,
# see below.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc}")
COMP_MB=${COMP_MB:-5}
INNER_MTU=${INNER_MTU:-1280}

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), ${COMP_MB} MB text + 1 MB random each way per round"
topo_pair
make_node "$NS_A" alpha "$A_DAEMON" || finish
make_node "$NS_B" beta "$B_DAEMON" || finish
connect_to alpha beta
pa=${NODE_PORT[alpha]}
pb=${NODE_PORT[beta]}
counters_start "$NS_R" "$pa" "$pb"
bytes=$((COMP_MB * MB))

# ROUND = "A-option B-option" ("-" for none)
ROUNDS=(
	"Compression=9 -"
	"- Compression=9"
	"Compression=10 Compression=11"
	"Compression=11 Compression=10"
	"TCPOnly=yes -"
	"- TCPOnly=yes"
)

# xfer_round LABEL SRC_NS DST_NS DST_NODE DST_PORT DST_LEVEL TCPONLY
xfer_round() {
	local label=$1 src=$2 dst=$3 node=$4 port=$5 level=$6 tcponly=$7 on_wire
	counters_reset
	check "$label: $COMP_MB MB text intact" transfer t "$src" "$dst" "$(vpn4 "$node")" "$bytes" --kind text --seed 11
	counters_read
	check "$label: 1 MB random intact" transfer r "$src" "$dst" "$(vpn6 "$node")" "$MB" --seed 12
	on_wire=${UDP_TO[$port]}
	note "$label: text on the wire: UDP $on_wire bytes to the receiver, TCP $TCP_BYTES bytes (payload $bytes)"
	if [ "$tcponly" = yes ]; then
		check_cmp "$label: TCPOnly: data went over TCP" "$TCP_BYTES" -ge "$bytes"
		check_cmp "$label: TCPOnly: (almost) no UDP" "$UDP_BYTES" -lt $((bytes / 100))
		return
	fi
	check_cmp "$label: data went by UDP (TCP bytes < 10% of the payload)" "$TCP_BYTES" -lt $((bytes / 10))
	if [ "$level" -gt 0 ]; then
		check_cmp "$label: compressed on the wire (UDP bytes < half the payload)" "$on_wire" -lt $((bytes / 2))
	else
		check_cmp "$label: uncompressed on the wire (UDP bytes >= payload)" "$on_wire" -ge "$bytes"
	fi
}

for round in "${ROUNDS[@]}"; do
	read -r oa ob <<<"$round"
	for n in alpha beta; do node_unset $n Compression; node_unset $n TCPOnly; done
	[ "$oa" != - ] && node_opt alpha "$oa"
	[ "$ob" != - ] && node_opt beta "$ob"
	exchange_hosts alpha beta
	la=0 lb=0 tcponly=no
	case "$oa" in Compression=*) la=${oa#*=} ;; TCPOnly=*) tcponly=yes ;; esac
	case "$ob" in Compression=*) lb=${ob#*=} ;; TCPOnly=*) tcponly=yes ;; esac
	label="[A ${oa/-/default}, B ${ob/-/default}]"
	note "---- round $label"
	start_node beta || finish
	start_node alpha || finish
	check_ping "$label: IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
	check_ping "$label: IPv4 ping B -> A" "$NS_B" "$(vpn4 alpha)" 10
	check_ping "$label: IPv6 ping A -> B" "$NS_A" "$(vpn6 beta)" 10
	if [ "$tcponly" = no ]; then
		# Frames longer than the MTU confirmed so far travel over TCP.  With
		# compression, PMTU discovery settles only after its 30th step (~30
		# s), so instead cap the inner MTU and wait until frames of that
		# size go by UDP.
		ip -n "$NS_A" link set "${NODE_IF[alpha]}" mtu "$INNER_MTU"
		ip -n "$NS_B" link set "${NODE_IF[beta]}" mtu "$INNER_MTU"
		wait_udp_path "$NS_A" "$(vpn4 beta)" $((INNER_MTU - 28)) 30
		wait_udp_path "$NS_B" "$(vpn4 alpha)" $((INNER_MTU - 28)) 30
	fi
	xfer_round "$label A -> B" "$NS_A" "$NS_B" beta "$pb" "$lb" "$tcponly"
	xfer_round "$label B -> A" "$NS_B" "$NS_A" alpha "$pa" "$la" "$tcponly"
	check "$label: A still running" node_alive alpha
	check "$label: B still running" node_alive beta
	stop_node alpha
	stop_node beta
done
finish

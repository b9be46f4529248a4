#!/bin/bash
# Issue 13, UDP half: UDP GSO on send and UDP GRO on receive, with every
# datagram on the wire still a plain protocol-17 datagram.
#
# alpha (fqtinc) has meta connections to beta (fqtinc) and gamma (tinc
# 1.0.36), Offload at its default (yes):
#  - both daemons say at start which UDP offloads are active;
#  - bulk transfers alpha <-> beta arrive intact; alpha's stats report GSO
#    messages carrying several datagrams each, beta's GRO reads holding several
#    datagrams, none lost, and beta opened every one of them on its own
#    (its udp_in from alpha covers the GRO datagrams);
#  - bulk transfers alpha <-> gamma arrive intact while alpha sends GSO
#    messages to gamma: tinc 1.0.36, without GRO, gets the kernel's segments;
#  - with TX checksum offload off on alpha's outer interface, kernels before
#    6.11 refuse GSO sends (EIO): alpha says it turns GSO off, and the next
#    transfer still arrives intact, resent one by one (newer kernels checksum
#    in software: GSO goes on);
#  - restarted with Offload = no, alpha and beta say "none" and their GSO/GRO
#    counters stay at 0 through a transfer.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/lib.sh"

XFER_MB=${XFER_MB:-30}
FQCTL=$(dirname "$FQTINC")/fqtinc
setup_interop_test
[ -x "$FQCTL" ] || { fail "fqtinc control program $FQCTL not built"; finish; }

topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
make_node "$NS_B" gamma tinc || finish
connect_to alpha beta
connect_to alpha gamma
exchange_hosts alpha beta gamma

# stat NODE KEY: a daemon-wide counter of the node's stats report
stat() {
	"$FQCTL" --pidfile="${NODE_DIR[$1]}/pid" stats --json 2>/dev/null |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["daemon"].get(sys.argv[1], "missing"))' "$2" 2>/dev/null || echo missing
}
# node_stat NODE PEER KEY: a counter of the node's line for PEER
node_stat() {
	"$FQCTL" --pidfile="${NODE_DIR[$1]}/pid" stats --json 2>/dev/null |
		"$PYTHON" -c 'import json,sys; print([n for n in json.load(sys.stdin)["nodes"] if n["name"] == sys.argv[1]][0][sys.argv[2]])' "$2" "$3" 2>/dev/null || echo missing
}
offload_counters() {
	local n=$1
	note "$n: gso messages $(stat "$n" udp_gso_messages) datagrams $(stat "$n" udp_gso_datagrams), gro reads $(stat "$n" udp_gro_reads) datagrams $(stat "$n" udp_gro_datagrams) lost $(stat "$n" udp_gro_lost), send errors $(stat "$n" send_errors)"
}

# tx_csum IFACE on|off: an interface's TX checksum offload, with ethtool if
# it is there, else with the ethtool ioctl (ETHTOOL_STXCSUM).
tx_csum() {
	local ns=$1 iface=$2 state=$3
	if command -v ethtool >/dev/null 2>&1; then
		nsx "$ns" ethtool -K "$iface" tx "$state" >/dev/null 2>&1
		return
	fi
	nsx "$ns" "$PYTHON" - "$iface" "$state" <<-'PY'
		import ctypes, fcntl, socket, struct, sys
		SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
		value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, sys.argv[2] == "on"))
		ifreq = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(value)) + bytes(16)
		fcntl.ioctl(socket.socket(), SIOCETHTOOL, ifreq)
	PY
}

for n in beta gamma alpha; do start_node "$n" || finish; done
check_cmp "alpha says at start that GSO and GRO are active" "$(log_count alpha 'UDP offloads active: GSO, GRO$')" -ge 1
check_cmp "beta says at start that GSO and GRO are active" "$(log_count beta 'UDP offloads active: GSO, GRO$')" -ge 1

check_ping "ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
check_ping "ping alpha -> gamma" "$NS_A" "$(vpn4 gamma)" 20
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30
wait_pmtu_settled "$NS_A" "$(vpn4 gamma)" 30

bytes=$((XFER_MB * MB))
# ---- fqtinc <-> fqtinc
check "bulk transfer alpha -> beta, $XFER_MB MB intact" transfer ab "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes"
check "bulk transfer beta -> alpha, $XFER_MB MB intact" transfer ba "$NS_B" "$NS_A" "$(vpn4 alpha)" "$bytes" --seed 2
offload_counters alpha
offload_counters beta
gso_m=$(stat alpha udp_gso_messages) gso_d=$(stat alpha udp_gso_datagrams)
check_cmp "alpha sent GSO messages" "$gso_m" -gt 0
check_cmp "alpha's GSO messages held several datagrams each (datagrams > 2 x messages)" "$gso_d" -gt $((2 * ${gso_m//[^0-9]/0}))
gro_r=$(stat beta udp_gro_reads) gro_d=$(stat beta udp_gro_datagrams)
check_cmp "beta read coalesced datagrams (GRO)" "$gro_r" -gt 0
check_cmp "beta's GRO reads held several datagrams each" "$gro_d" -gt $((2 * ${gro_r//[^0-9]/0}))
check_eq "beta lost no coalesced datagram" 0 "$(stat beta udp_gro_lost)"
# each datagram is opened (udp_in) or dropped by the receive-side AQM before
# decryption (ingress_drop) on its own
udp_in=$(node_stat beta alpha udp_in) in_drop=$(node_stat beta alpha ingress_drop)
note "beta from alpha: udp_in $udp_in, dropped before decryption $in_drop"
check_cmp "beta took every coalesced datagram on its own (udp_in + ingress drops from alpha >= GRO datagrams)" \
	"$((${udp_in//[^0-9]/0} + ${in_drop//[^0-9]/0}))" -ge "${gro_d//[^0-9]/0}"
check_cmp "alpha counted each datagram sent to beta (udp_out >= GSO datagrams)" \
	"$(node_stat alpha beta udp_out)" -ge "${gso_d//[^0-9]/0}"
check_eq "alpha had no send errors" 0 "$(stat alpha send_errors)"

# ---- fqtinc <-> tinc 1.0.36: plain protocol-17 datagrams on the wire
gso_before=$(stat alpha udp_gso_datagrams)
check "bulk transfer alpha -> gamma (tinc 1.0.36), $XFER_MB MB intact" transfer ag "$NS_A" "$NS_B" "$(vpn4 gamma)" "$bytes"
check "bulk transfer gamma -> alpha, $XFER_MB MB intact" transfer ga "$NS_B" "$NS_A" "$(vpn4 alpha)" "$bytes" --seed 3
offload_counters alpha
check_cmp "alpha sent GSO messages to gamma (more GSO datagrams than before)" "$(stat alpha udp_gso_datagrams)" -gt "${gso_before//[^0-9]/0}"
check "gamma (tinc 1.0.36) still running" node_alive gamma
check_eq "gamma logged no bad datagrams from alpha" 0 "$(log_count gamma 'Got bad packet|invalid packet|Error decrypting')"

# ---- EIO: no TX checksum offload on alpha's outer interface
gso_before=$(stat alpha udp_gso_datagrams)
if tx_csum "$NS_A" eth0 off; then
	check "bulk transfer alpha -> beta without TX checksum offload, $XFER_MB MB intact" transfer ab2 "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes" --seed 4
	# Kernels before 6.11 refuse a GSO send without checksum offload (EIO):
	# alpha must turn GSO off and resend; newer ones checksum in software.
	offs=$(log_count alpha 'UDP GSO turned off on .*the outgoing device cannot checksum segments')
	gso_now=$(stat alpha udp_gso_datagrams)
	if [ "$offs" -ge 1 ]; then
		pass "alpha said it turned GSO off after EIO"
	else
		note "the kernel took GSO sends without TX checksum offload (software checksum): no EIO to fall back from"
		check_cmp "alpha kept sending GSO messages" "$gso_now" -gt "${gso_before//[^0-9]/0}"
	fi
	check_eq "alpha had no send errors" 0 "$(stat alpha send_errors)"
	offload_counters alpha
	tx_csum "$NS_A" eth0 on
else
	note "EIO fallback not tested: cannot turn TX checksum offload off (no ethtool, ioctl refused)"
fi

# ---- Offload = no (gamma stays down: a pair of fresh fqtinc nodes only)
stop_node gamma
stop_node alpha
stop_node beta
node_set alpha Offload=${PHASE3_OFFLOAD:-no}
node_set beta Offload=${PHASE3_OFFLOAD:-no}
wait_next_second alpha
start_node beta || finish
start_node alpha || finish
check_cmp "alpha with Offload = no says none" "$(log_count alpha 'UDP offloads active: none \(Offload = no\)')" -ge 1
check_ping "ping alpha -> beta (Offload = no)" "$NS_A" "$(vpn4 beta)" 20
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30
check "transfer alpha -> beta with Offload = no, 10 MB intact" transfer ab3 "$NS_A" "$NS_B" "$(vpn4 beta)" $((10 * MB))
check "transfer beta -> alpha with Offload = no, 10 MB intact" transfer ba3 "$NS_B" "$NS_A" "$(vpn4 alpha)" $((10 * MB)) --seed 5
offload_counters alpha
offload_counters beta
check_eq "Offload = no: alpha sent no GSO message" 0 "$(stat alpha udp_gso_messages)"
check_eq "Offload = no: beta sent no GSO message" 0 "$(stat beta udp_gso_messages)"
check_eq "Offload = no: alpha read no coalesced datagrams" 0 "$(stat alpha udp_gro_reads)"
check_eq "Offload = no: beta read no coalesced datagrams" 0 "$(stat beta udp_gro_reads)"
note "beta from alpha: udp_in $(node_stat beta alpha udp_in), tcp_in $(node_stat beta alpha tcp_in), ingress drops $(node_stat beta alpha ingress_drop)"
check_cmp "Offload = no: beta received alpha's datagrams over UDP" "$(node_stat beta alpha udp_in)" -gt 1000

check "alpha still running" node_alive alpha
check "beta still running" node_alive beta
finish

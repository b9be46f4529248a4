#!/bin/bash
# Tun segmentation offload (Offload, default yes): two fqtinc nodes, TCP
# transfers from alpha's own namespace, so its kernel hands the tun device
# TCP super-packets (TSO) that alpha must cut into segments.
#
# Checks, with Offload = yes: the start-up line names the offloads; transfers
# over IPv4 and IPv6 arrive intact (sha256); alpha read more frames from the
# device than the kernel counted packets sent into it (super-packets were
# cut), and no frame it read was larger than a wire frame (its counters count
# segments); UDP_SEGMENT sends (USO) reach beta as intact datagrams of the
# segment size; beta wrote TCP segments to its device joined (fewer packets
# for its kernel than segments). Then alpha again with Offload = no: its line
# says off, a transfer arrives intact, and frames read match the kernel's
# packets one to one. Last, both in switch mode (tap): the same cutting
# behind an Ethernet header.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"

XFER_MB=${XFER_MB:-8}
FQCTL=$(dirname "$FQTINC")/fqtinc

need_daemon "$FQTINC"
[ -x "$FQCTL" ] || { echo "SKIP: control program $FQCTL not built"; exit 77; }
setup_test

fq_pair

# kernel_tx NODE [rx]: packets the kernel sent into the node's tun device (a
# super-packet counts once); with rx, packets the daemon wrote to it
kernel_tx() {
	ip -n "${NODE_NS[$1]}" -s -j link show dev "${NODE_IF[$1]}" |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"][sys.argv[1]]["packets"])' "${2:-tx}"
}

# daemon_read NODE [PEER]: "packets bytes" the daemon read from its device
# (its own row in fqtinc stats: frames that entered the daemon from the
# device); with PEER, those it received from PEER
daemon_read() {
	"$FQCTL" --pidfile="${NODE_DIR[$1]}/pid" stats --json |
		"$PYTHON" -c 'import json,sys; n=[n for n in json.load(sys.stdin)["nodes"] if n["name"]==sys.argv[1]][0]; print(n["in_packets"], n["in_bytes"])' "${2:-$1}"
}

# measure NAME CMD...: runs CMD and sets K (kernel packets), P (daemon
# packets) and B (daemon bytes) to alpha's deltas over it; D to the frames
# beta received from alpha and R to the packets beta's kernel took from
# beta's daemon (joined segments count once)
measure() {
	local k0 p0 b0 k1 p1 b1 r0 r1 d0 d1 x
	k0=$(kernel_tx alpha)
	r0=$(kernel_tx beta rx)
	read -r p0 b0 < <(daemon_read alpha)
	read -r d0 x < <(daemon_read beta alpha)
	"$@"
	local rc=$?
	k1=$(kernel_tx alpha)
	r1=$(kernel_tx beta rx)
	read -r p1 b1 < <(daemon_read alpha)
	read -r d1 x < <(daemon_read beta alpha)
	K=$((k1 - k0)) P=$((p1 - p0)) B=$((b1 - b0)) R=$((r1 - r0)) D=$((d1 - d0))
	note "over it: alpha's kernel sent $K packets into ${NODE_IF[alpha]}, alpha read $P frames ($B bytes, $((P ? B / P : 0)) bytes average); beta received $D frames from alpha, its kernel took $R packets"
	[ $((2 * R)) -lt "$D" ] && JOINED=$((JOINED + 1))
	return $rc
}

bytes=$((XFER_MB * MB))
JOINED=0

# ---- Offload = yes (the default)
for n in beta alpha; do start_node "$n" || finish; done
check_eq "start-up line names the tun offloads" 1 \
	"$(log_count alpha 'Tun offloads active on vpn1: checksum, TSO4, TSO6, TSO-ECN')"
check_ping "IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
check_ping "IPv6 ping A -> B" "$NS_A" "$(vpn6 beta)" 10
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30
# the first transfer may still teach the sender the path MTU (dropping what
# exceeds it): not part of what is measured
transfer w4 "$NS_A" "$NS_B" "$(vpn4 beta)" $MB --seed 8 || true
transfer w6 "$NS_A" "$NS_B" "$(vpn6 beta)" $MB --seed 9 || true

check "offload on: $XFER_MB MB A -> B over IPv4 intact" measure transfer o4 "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes"
check_cmp "offload on: frames read > 1.5 x kernel packets (super-packets cut)" $((2 * P)) -gt $((3 * K))
check_cmp "offload on: frames read cover the data at wire size" $((P * 1500)) -ge "$bytes"
check_cmp "offload on: average frame read <= 1514 bytes" "$B" -le $((P * 1514))
check "offload on: $XFER_MB MB A -> B over IPv6 intact" measure transfer o6 "$NS_A" "$NS_B" "$(vpn6 beta)" "$bytes" --seed 3
check_cmp "offload on, IPv6: frames read > 1.5 x kernel packets" $((2 * P)) -gt $((3 * K))
# A transfer that loses many frames on the way (here it happens now and
# then, with or without offloads, no queue counting a drop) gives beta no
# runs of consecutive segments to join; one transfer of the two must show
# beta's kernel taking fewer than half as many packets as beta received.
check_cmp "offload on: beta joined segments in at least one transfer" "$JOINED" -ge 1
# UDP segmentation (USO): 40 sends of 8000 bytes with UDP_SEGMENT 1000
# reach beta as 320 datagrams of 1000 bytes with valid checksums (the
# receiving kernel drops any other)
uso_recv() {
	"$PYTHON" - "$TMP/uso.res" <<-'PY'
		import socket, sys, time
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
		s.bind(("0.0.0.0", 7007))
		open(sys.argv[1] + ".ready", "w").close()
		s.settimeout(3)
		n = ok = 0
		try:
		    while True:
		        d = s.recv(65535)
		        n += 1
		        ok += len(d) == 1000 and d == bytes([d[0]]) * 1000
		except socket.timeout:
		    pass
		open(sys.argv[1], "w").write("%d %d\n" % (n, ok))
	PY
}
uso_send() {
	"$PYTHON" - "$1" <<-'PY'
		import socket, sys, time
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.setsockopt(socket.IPPROTO_UDP, 103, 1000)  # UDP_SEGMENT
		for i in range(40):
		    time.sleep(0.005)  # a burst larger than the queues would lose datagrams
		    s.sendto(b"".join(bytes([(i * 8 + k) % 256]) * 1000 for k in range(8)), (sys.argv[1], 7007))
	PY
}
if [ "$(log_count alpha 'Tun offloads active.*USO4')" = 1 ]; then
	ip netns exec "$NS_B" bash -c "$(declare -f uso_recv); PYTHON=$PYTHON TMP=$TMP uso_recv" &
	BG_PIDS+=($!)
	wait_for "[ -e $TMP/uso.res.ready ]" 10
	check "USO: the sender's kernel took UDP_SEGMENT sends" measure ip netns exec "$NS_A" bash -c "$(declare -f uso_send); PYTHON=$PYTHON uso_send $(vpn4 beta)"
	wait_for "[ -s $TMP/uso.res ]" 10
	read -r uso_n uso_ok <"$TMP/uso.res"
	note "USO: beta got $uso_n datagrams, $uso_ok of them whole; alpha's kernel sent $K packets, alpha read $P frames"
	check_cmp "USO: alpha read more frames than its kernel sent packets" "$P" -gt "$K"
	check_cmp "USO: beta got >= 300 of 320 datagrams of 1000 bytes, intact" "${uso_ok:-0}" -ge 300
else
	note "USO: not checked, the kernel did not take TUN_F_USO4"
fi
check "offload on: $XFER_MB MB B -> A intact" transfer r4 "$NS_B" "$NS_A" "$(vpn4 alpha)" "$bytes" --seed 4
check_eq "offload on: no frame from the device dropped as malformed" 0 "$(log_count alpha 'Dropping a frame read from')"

# ---- Offload = no: exactly the old path
stop_node alpha
node_set alpha Offload=no
start_node alpha || finish
check_eq "Offload = no: start-up line says off" 1 "$(log_count alpha 'Tun offloads off \(Offload = no\)')"
check_ping "IPv4 ping A -> B again" "$NS_A" "$(vpn4 beta)" 20
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
transfer w5 "$NS_A" "$NS_B" "$(vpn4 beta)" $MB --seed 8 || true
check "offload off: $XFER_MB MB A -> B intact" measure transfer n4 "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes" --seed 5
check_cmp "offload off: frames read <= kernel packets + 1%" $((100 * P)) -le $((101 * K + 100))
check_cmp "offload off: frames read >= kernel packets - 1%" $((100 * P + 100)) -ge $((99 * K))

# ---- switch mode: a tap device, frames with an Ethernet header
stop_node alpha
stop_node beta
node_unset alpha Offload
for n in alpha beta; do node_set "$n" Mode=switch DeviceType=tap; done
for n in beta alpha; do start_node "$n" || finish; done
check_eq "tap: start-up line names the offloads" 1 \
	"$(log_count alpha 'Tap offloads active on vpn1: checksum, TSO4, TSO6, TSO-ECN')"
check_ping "tap: IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
transfer w7 "$NS_A" "$NS_B" "$(vpn4 beta)" $MB --seed 8 || true
check "tap, offload on: $XFER_MB MB A -> B intact" measure transfer t4 "$NS_A" "$NS_B" "$(vpn4 beta)" "$bytes" --seed 6
check_cmp "tap: frames read > 1.5 x kernel packets (super-packets cut)" $((2 * P)) -gt $((3 * K))
check_cmp "tap: average frame read <= 1514 bytes" "$B" -le $((P * 1514))
check "tap, offload on: $XFER_MB MB A -> B over IPv6 intact" measure transfer t6 "$NS_A" "$NS_B" "$(vpn6 beta)" "$bytes" --seed 7
note "transfers in which beta joined segments: $JOINED (tap: joining behind an Ethernet header is covered by test_gro_coalesce)"
check_eq "no frame from the device dropped as malformed" 0 "$(log_count alpha 'Dropping a frame read from')"

check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

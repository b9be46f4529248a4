#!/bin/bash
# Diffserv reordering must not become replay-window loss (issue 4).
#
#   alpha (A) --ConnectTo--> beta (B), PriorityInheritance = yes on both, so
#   the outer DSCP is the inner one.
#
# The router's link toward B is an htb of RATE with two classes: EF (outer
# DSCP 46) with strict priority, everything else best effort behind a deep
# FIFO.  Through the tunnel A sends a best-effort UDP flow above RATE (the BE
# queue stays full) and, at the same time, EF pings.  Every EF datagram
# overtakes the whole BE queue, so beta receives sequence numbers hundreds
# ahead of the BE datagrams still queued: the reordering depth is
# (BE queueing delay) x (datagrams per second A sends), estimated from the RTT
# of BE and EF pings measured during the load.
#
# tinc 1.0.36 (window 128 packets) drops the EF datagrams that arrive more
# than 128 ahead as "in the future" -- the priority traffic is what it loses
# -- (and would drop overtaken BE datagrams as "late or replayed" once its
# window jumps); its receiving node runs with -d5 so these drops are logged.
# fqtinc (default window 8192 packets) must count zero late, replayed or
# far-future packets and answer (practically) every EF ping.  tinc runs first: if its log
# shows no replay-window loss, the reordering was too shallow, and both halves
# are repeated with a deeper BE queue and more load.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-150} # before lib.sh, which defaults it
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

RATE=${RATE:-20mbit}
LOAD_SECS=${LOAD_SECS:-3}
need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools tc iperf3
setup_test

topo_pair
quiet_ipv6 "$NS_A" "$NS_B"
make_node "$NS_A" alpha fq PriorityInheritance=yes || finish
make_node "$NS_B" beta fq PriorityInheritance=yes || finish
connect_to alpha beta
exchange_hosts alpha beta
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}"
RIF=${NS_RIF[$NS_B]}

# htb_setup BE_LIMIT: EF first (strict priority), BE behind a BE_LIMIT-packet FIFO
htb_setup() {
	nsx "$NS_R" tc qdisc del dev "$RIF" root 2>/dev/null
	nsx "$NS_R" tc qdisc add dev "$RIF" root handle 1: htb default 20 &&
		nsx "$NS_R" tc class add dev "$RIF" parent 1: classid 1:1 htb rate "$RATE" quantum 1514 &&
		nsx "$NS_R" tc class add dev "$RIF" parent 1:1 classid 1:10 htb rate 5mbit ceil "$RATE" prio 0 quantum 1514 &&
		nsx "$NS_R" tc class add dev "$RIF" parent 1:1 classid 1:20 htb rate 1mbit ceil "$RATE" prio 1 quantum 1514 &&
		nsx "$NS_R" tc qdisc add dev "$RIF" parent 1:10 handle 10: pfifo limit 200 &&
		nsx "$NS_R" tc qdisc add dev "$RIF" parent 1:20 handle 20: pfifo limit "$1" &&
		nsx "$NS_R" tc filter add dev "$RIF" parent 1: protocol ip prio 1 u32 match ip tos 0xb8 0xfc flowid 1:10
}

# ping_stats FILE: "SENT RECEIVED AVG_RTT_MS" from ping's summary
ping_stats() {
	awk '/packets transmitted/ { s = $1; r = $4 }
		/^rtt|^round-trip/ { split($4, a, "/"); avg = a[2] }
		END { printf "%d %d %s\n", s, r, (avg == "" ? "0" : avg) }' "$1"
}

# load TAG BE_MBIT: BE UDP flow + EF pings + BE probe pings, all at once
load() {
	local tag=$1 mbit=$2 be_pps
	nsx "$NS_B" iperf3 -s -1 -p 5201 >"$TMP/$tag.iperf-s" 2>&1 &
	BG_PIDS+=($!)
	wait_for "nsx $NS_B ss -Hltn 'sport = :5201' | grep -q ." 5
	nsx "$NS_A" iperf3 -c "$(vpn4 beta)" -p 5201 -u -b "${mbit}M" -l 1200 -t "$LOAD_SECS" -J \
		>"$TMP/$tag.iperf.json" 2>"$TMP/$tag.iperf.err" &
	local ip=$!
	BG_PIDS+=($ip)
	# let the BE queue fill before measuring
	sleep 0.5
	local n_ef=$(((LOAD_SECS - 1) * 200)) n_be=$(((LOAD_SECS - 1) * 10))
	nsx "$NS_A" ping -n -q -Q 0xb8 -i 0.005 -c "$n_ef" -W 2 "$(vpn4 beta)" >"$TMP/$tag.ef" 2>&1 &
	local ep=$!
	nsx "$NS_A" ping -n -q -Q 0x00 -i 0.1 -c "$n_be" -W 2 "$(vpn4 beta)" >"$TMP/$tag.be" 2>&1
	wait "$ep" "$ip" 2>/dev/null
	read -r EF_SENT EF_RECV EF_RTT <<<"$(ping_stats "$TMP/$tag.ef")"
	read -r BEP_SENT BEP_RECV BE_RTT <<<"$(ping_stats "$TMP/$tag.be")"
	read -r BE_PKTS BE_LOST <<<"$("$PYTHON" -c '
import json, sys
try:
    s = json.load(open(sys.argv[1]))["end"]["sum"]
    print(s.get("packets", 0), s.get("lost_packets", 0))
except Exception:
    print(0, 0)' "$TMP/$tag.iperf.json")"
	be_pps=$((mbit * 1000000 / 8 / 1200))
	# datagrams A sent while a BE datagram waited in the queue
	DEPTH=$(awk -v b="$BE_RTT" -v e="$EF_RTT" -v p="$be_pps" -v q=200 \
		'BEGIN { d = (b - e) / 1000 * (p + q); printf "%d", (d > 0 ? d : 0) }')
	note "$tag: BE flow $BE_PKTS datagrams, $BE_LOST lost; EF pings $EF_RECV/$EF_SENT answered, rtt ${EF_RTT} ms; BE pings $BEP_RECV/$BEP_SENT, rtt ${BE_RTT} ms; estimated reordering depth $DEPTH datagrams"
}

# half DAEMON BE_LIMIT BE_MBIT: run one load with both nodes on DAEMON
half() {
	local d=$1 limit=$2 mbit=$3 tag
	tag=$(daemon_label "$(resolve_daemon "$d")")-q$limit
	NODE_DAEMON[alpha]=$(resolve_daemon "$d")
	NODE_DAEMON[beta]=$(resolve_daemon "$d")
	nsx "$NS_R" tc qdisc del dev "$RIF" root 2>/dev/null
	# tinc logs its replay-window drops only at debug level 5
	if [ "$d" = tinc ]; then start_node beta -d5 || return 1; else start_node beta || return 1; fi
	start_node alpha || return 1
	check_ping "$tag: ping A -> B" "$NS_A" "$(vpn4 beta)" 20 || return 1
	wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
	htb_setup "$limit" || { fail "$tag: htb setup"; return 1; }
	load "$tag" "$mbit"
	nsx "$NS_R" tc -s qdisc show dev "$RIF" | awk '/^qdisc pfifo/ { q = $5 } /Sent/ { print "# router queue " q ": " $0 }'
	TAG=$tag
}

# ---- tinc 1.0.36 first: find a load that reorders beyond its 128-packet window
T_LOSS=0
for cfg in "400 30" "1000 40"; do
	read -r LIMIT MBIT <<<"$cfg"
	half tinc "$LIMIT" "$MBIT" || finish
	T_LATE=$(log_count beta 'Got late or replayed packet')
	T_FUTURE=$(log_count beta 'seqs in the future, dropped')
	T_LOSS=$((T_LATE + T_FUTURE))
	T_EF_LOST=$((EF_SENT - EF_RECV))
	T_DEPTH=$DEPTH T_BE_LOST=$BE_LOST T_BE_PKTS=$BE_PKTS T_EF="$EF_RECV/$EF_SENT"
	note "$TAG: beta (tinc) logged $T_LATE late/replayed and $T_FUTURE far-future drops"
	stop_all_nodes
	[ "$T_LOSS" -gt 0 ] && break
	note "reordering not deep enough for tinc's window; deepening the BE queue and raising the load"
done
check_cmp "tinc 1.0.36 loses packets to its replay window under this reordering" "$T_LOSS" -gt 0
note "tinc 1.0.36 lost $T_EF_LOST of $EF_SENT EF pings"

# ---- fqtinc under the same load
half fq "$LIMIT" "$MBIT" || finish
check_cmp "fq: the load reordered deeper than tinc's 128-packet window" "$DEPTH" -gt 128
usr2_dump beta || fail "fq: beta dumps on SIGUSR2"
rw=$(grep -o 'replay window: late [0-9]*, replayed [0-9]*, far future [0-9]*' "$TMP/beta.dump")
note "$TAG: beta (fqtinc) $rw"
check_eq "fq: beta lost nothing to its replay window (late, replayed, far future)" "0 0 0" \
	"$(dump_num beta 'late') $(dump_num beta 'replayed') $(dump_num beta 'far future')"
# (99%: one ping lost to a loaded machine is not the replay window)
check_cmp "fq: the EF pings answered ($EF_RECV/$EF_SENT), at least 99%" $((EF_RECV * 100)) -ge $((EF_SENT * 99 + (EF_SENT == 0)))
stop_all_nodes

note "contrast under the same load (BE queue $LIMIT packets, BE flow $MBIT Mbit/s over $RATE):"
note "  tinc 1.0.36: $T_LOSS replay-window drops logged ($T_LATE late/replayed, $T_FUTURE far future), BE lost $T_BE_LOST/$T_BE_PKTS (the queue drops too), EF answered $T_EF, depth ~$T_DEPTH"
note "  fqtinc:      $rw, BE lost $BE_LOST/$BE_PKTS, EF answered $EF_RECV/$EF_SENT, depth ~$DEPTH"
finish

#!/bin/bash
# Data-plane attacks (issue 6): replayed and junk UDP datagrams.
#
#   alpha (fqtinc, namespace A) -> beta (fqtinc, namespace B); the attacker
#   captures alpha's datagrams to beta in the router and plays them back.
#
# 1. Replay from alpha's own address and port (a raw socket in A): every
#    replayed datagram is dropped and counted by beta's replay window
#    (USR2 dump: late + replayed grows by exactly the number sent).
# 2. Replay from another address (the router): datagrams that authenticate
#    by MAC trial but are not fresh are dropped and counted, and they must
#    not move beta's idea of alpha's UDP address (that would send alpha's
#    traffic to the attacker).
# 3. A junk flood (random datagrams, 10 s) at beta's port: pings through
#    the tunnel keep working (loss < 5 %), the meta connection survives, and
#    the junk is counted as "unknown source"; beta's CPU use is printed.
. "$(dirname "$0")/lib.sh"

FLOOD_SECS=${FLOOD_SECS:-10}
FLOOD_PPS=${FLOOD_PPS:-20000}
ADV="$NET_DIR/adversary.py"

need_daemon "$FQTINC"
setup_test
require_tools tcpdump
topo_pair
# the router captures (and the attacker replays) single datagrams (nic_links)
nic_links "$NS_A" || skip "cannot limit GSO on alpha's link"
# One outer port (UDPPorts = 1): the replays below are of datagrams from
# alpha's own port, and the first one of each round is the one beta tries
# every key on; with flows spread, the capture starts with port probes from
# alpha's extra ports (t_ports_spread covers those).
make_node "$NS_A" alpha fq UDPPorts=1 || finish
# A socket buffer for bursts (what an operator facing floods would set; the
# OS default holds only ~100 datagrams, a few ms at flood rate).
make_node "$NS_B" beta fq UDPRcvBuf=4194304 || finish
connect_to beta alpha
exchange_hosts alpha beta
start_node alpha || finish
start_node beta || finish
check_ping "link up" "$NS_A" "$(vpn4 beta)" 20

# dump NAME: USR2, then the values of the new dump in DUMP_* variables
dump() {
	local name=$1 before
	before=$(log_count "$name" 'End of subnets')
	kill -USR2 "${NODE_PID[$name]}"
	wait_for "[ \$(log_count $name 'End of subnets') -gt $before ]" 5 || return 1
	local log=${NODE_DIR[$name]}/log
	read -r DUMP_LATE DUMP_REPLAYED <<<"$(grep -E '^ *replay window: late' "$log" | tail -1 |
		sed -E 's/.*late ([0-9]+), replayed ([0-9]+).*/\1 \2/')"
	DUMP_UNKNOWN=$(grep -E '^ *udp dropped: unknown source' "$log" | tail -1 | sed -E 's/.*unknown source ([0-9]+),.*/\1/')
	DUMP_PEER=$(grep -E "^ *alpha at " "$log" | tail -1 | sed -E 's/^ *alpha at (.*) cipher.*/\1/')
}

# ---- capture 20 of alpha's datagrams to beta (pings A -> B)
alpha_port=${NODE_PORT[alpha]}
beta_port=${NODE_PORT[beta]}
ip netns exec "$NS_R" tcpdump -i "${NS_RIF[$NS_A]}" -n -U -s 0 -Z root -c 20 -w "$TMP/replay.pcap" \
	udp and dst port "$beta_port" </dev/null >"$TMP/replay.tcpdump.log" 2>&1 &
CAP_PID[replay]=$!
wait_for "grep -q 'listening on' $TMP/replay.tcpdump.log" 5
nsx "$NS_A" ping -n -q -c 25 -i 0.05 "$(vpn4 beta)" >/dev/null 2>&1
wait_for "! kill -0 ${CAP_PID[replay]}" 5
capture_stop replay

# ---- 1. replay from alpha's own address and port
dump beta
late0=$DUMP_LATE rep0=$DUMP_REPLAYED
r=$(ip netns exec "$NS_A" timeout 20 "$PYTHON" "$ADV" udpreplay "$TMP/replay.pcap" "$beta_port" \
	"$(outer4 beta)" "$beta_port" 3 "$(outer4 alpha)" "$alpha_port")
note "$r"
sent=$(echo "$r" | sed -E 's/.*sent=([0-9]+).*/\1/')
check_cmp "captured datagrams to replay" "$sent" -ge 30
wait_for "dump beta && [ \$((DUMP_LATE + DUMP_REPLAYED - late0 - rep0)) -ge $sent ]" 5
dump beta
note "beta's replay window: late $((DUMP_LATE - late0)), replayed $((DUMP_REPLAYED - rep0)) (sent $sent)"
check_eq "every replayed datagram dropped and counted" "$sent" $((DUMP_LATE + DUMP_REPLAYED - late0 - rep0))
check_ping "tunnel still works after the replay" "$NS_A" "$(vpn4 beta)" 5

# ---- 2. replay from another address: counted, and no address hijack
dump beta
peer0=$DUMP_PEER late0=$DUMP_LATE rep0=$DUMP_REPLAYED
note "beta has alpha at $peer0"
for i in 1 2 3; do
	ip netns exec "$NS_R" timeout 20 "$PYTHON" "$ADV" udpreplay "$TMP/replay.pcap" "$beta_port" \
		"$(outer4 beta)" "$beta_port" 1 >/dev/null
	sleep 1.1  # beta tries every key on an unknown sender at most once a second
done
dump beta
note "after replays from the router: beta has alpha at $DUMP_PEER; late $((DUMP_LATE - late0)), replayed $((DUMP_REPLAYED - rep0))"
check_cmp "replays from a foreign address that passed the MAC trial were counted" \
	$((DUMP_LATE + DUMP_REPLAYED - late0 - rep0)) -ge 1
check_eq "alpha's UDP address unchanged by replays from elsewhere" "$peer0" "$DUMP_PEER"
check_ping "tunnel B -> A still works" "$NS_B" "$(vpn4 alpha)" 5

# ---- 3. junk flood
dump beta
unknown0=$DUMP_UNKNOWN
closed0=$(log_count beta 'Closing the connection')
cpu0=$(awk '{ print $14 + $15 }' "/proc/${NODE_PID[beta]}/stat")
ip netns exec "$NS_R" timeout $((FLOOD_SECS + 10)) "$PYTHON" "$ADV" udpjunk "$(outer4 beta)" "$beta_port" \
	"$FLOOD_SECS" "$FLOOD_PPS" >"$TMP/flood.out" 2>&1 &
flood_pid=$!
BG_PIDS+=("$flood_pid")
nsx "$NS_A" ping -n -q -i 0.1 -c $((FLOOD_SECS * 10 - 10)) -W 1 "$(vpn4 beta)" >"$TMP/flood.ping" 2>&1
wait "$flood_pid"
cpu1=$(awk '{ print $14 + $15 }' "/proc/${NODE_PID[beta]}/stat")
note "$(cat "$TMP/flood.out")"
note "pings during the flood: $(grep -E 'packets transmitted' "$TMP/flood.ping")"
note "beta's CPU during the flood: $(( (cpu1 - cpu0) * 100 / $(getconf CLK_TCK) / FLOOD_SECS )) % of one core"
loss=$(grep -o -E '[0-9.]+% packet loss' "$TMP/flood.ping" | grep -o -E '^[0-9]+')
kdrops=$(nsx "$NS_B" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp)
note "datagrams the kernel dropped in beta's namespace (socket buffer full): ${kdrops:-?}"
check_cmp "ping loss during the junk flood under 5 %" "${loss:-100}" -lt 5
dump beta
junk=$(sed -E 's/.*datagrams=([0-9]+).*/\1/' "$TMP/flood.out")
note "beta counted $((DUMP_UNKNOWN - unknown0)) datagrams from unknown sources (${junk:-?} sent)"
check_cmp "junk counted as from unknown sources (at least half; the rest the kernel may drop)" \
	$((DUMP_UNKNOWN - unknown0)) -ge $(( ${junk:-2} / 2 ))
check_eq "the meta connection survived the flood" "$closed0" "$(log_count beta 'Closing the connection')"
check "beta still running" node_alive beta
finish

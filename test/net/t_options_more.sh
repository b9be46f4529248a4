#!/bin/bash
# More tinc 1.0.36 options, fqtinc with tinc 1.0.36 peers.
#
# Chain: alpha (fq) <-- beta (fq, ConnectTo both) --> gamma (tinc, IndirectData)
#   Broadcast = mst     (default) a multicast ping from alpha reaches beta's
#                       and, relayed by beta, gamma's tun
#   Broadcast = no      on alpha: the multicast ping reaches nobody
#   Broadcast = direct  on alpha and beta: alpha's reaches beta only (gamma is
#                       not a direct neighbour of alpha and beta relays
#                       nothing); beta's own reaches alpha and gamma
# Pair: delta (fq, in alpha's namespace) <--> epsilon (tinc, in gamma's)
#   Name = $VAR         delta's name comes from the environment; invalid
#                       characters become "_"; $HOST falls back to the host name
#   MinTimeout = 7      first reconnect delay is 7 s (not 5), both daemons
#   PMTU = 1400 + ClampMSS = no   a SYN to delta keeps MSS 1460 (while one
#                       towards epsilon, ClampMSS on, is clamped to 1346);
#                       back on, delta clamps what it receives to the sender's
#                       MTU (PMTU = 1300 in delta's hosts/epsilon): 1246
#   PMTUDiscovery = no  no probes on the wire, 1000-byte pings go by UDP at once
#   MaxOutputBufferSize with TCPOnly: a transfer works with the minimum (1518);
#                       with the peer frozen, the minimum drops more pings
#                       than a large buffer (random early drop)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools tcpdump nft unshare
setup_test

topo_chain3
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
make_node "$NS_C" gamma tinc IndirectData=yes || finish
make_node "$NS_A" delta fq PMTU=1400 ClampMSS=no PMTUDiscovery=no MinTimeout=7 || finish
make_node "$NS_C" epsilon tinc MinTimeout=7 || finish
connect_to beta alpha
connect_to beta gamma
exchange_hosts alpha beta
exchange_hosts gamma beta
connect_to delta epsilon
connect_to epsilon delta
counters_start "$NS_R" "${NODE_PORT[delta]}" "${NODE_PORT[epsilon]}"

# ---------------------------------------------------------------- Broadcast

# mcast_seen FROM_NAME TARGET_NAME...: one multicast ping (224.0.0.1) from
# FROM's namespace into its tun; prints how many of the targets' tuns saw it
# as "name=count" pairs
mcast_seen() {
	local from=$1 t out=
	shift
	for t in "$@"; do
		capture_start "${NODE_NS[$t]}" "${NODE_IF[$t]}" "mc-$t" "icmp and dst 224.0.0.1" || return 1
	done
	nsx "${NODE_NS[$from]}" ip route replace 224.0.0.0/4 dev "${NODE_IF[$from]}"
	nsx "${NODE_NS[$from]}" ping -n -q -c 3 -i 0.2 -W 1 224.0.0.1 >/dev/null 2>&1
	sleep 0.5
	for t in "$@"; do
		capture_stop "mc-$t" >/dev/null
		out+="$t=$(tcpdump -r "$TMP/mc-$t.pcap" -n 2>/dev/null | grep -c 'echo request') "
	done
	echo "${out% }"
}
restart_bcast() { # NAME MODE|""
	stop_node "$1"
	node_unset "$1" Broadcast
	[ -n "$2" ] && node_opt "$1" "conf:Broadcast=$2"
	wait_next_second "$1"
	start_node "$1"
}

start_node alpha && start_node gamma && start_node beta || finish
check_ping "chain up: alpha -> gamma through beta" "$NS_A" "$(vpn4 gamma)" 20
check_eq "Broadcast = mst: alpha's multicast reaches beta and (relayed) gamma" \
	"beta=3 gamma=3" "$(mcast_seen alpha beta gamma)"

restart_bcast alpha no || finish
check_ping "Broadcast = no: alpha -> gamma unicast still" "$NS_A" "$(vpn4 gamma)" 20
check_eq "Broadcast = no on alpha: its multicast reaches nobody" \
	"beta=0 gamma=0" "$(mcast_seen alpha beta gamma)"

restart_bcast alpha direct || finish
restart_bcast beta direct || finish
check_ping "Broadcast = direct: alpha -> gamma unicast" "$NS_A" "$(vpn4 gamma)" 20
check_ping "Broadcast = direct: beta -> gamma unicast" "$NS_B" "$(vpn4 gamma)" 10
check_eq "Broadcast = direct: alpha's multicast reaches beta, not gamma (no relay)" \
	"beta=3 gamma=0" "$(mcast_seen alpha beta gamma)"
check_eq "Broadcast = direct: beta's multicast reaches both its direct neighbours" \
	"alpha=3 gamma=3" "$(mcast_seen beta alpha gamma)"
stop_all_nodes

# ---------------------------------------------------------------- Name = $VAR / $HOST

# name_from_env DAEMON NAME_LINE ENV...: the host file the daemon looks for
# (an empty config: it stops at "Cannot open config file .../hosts/X")
mkdir -p "$TMP/noname/hosts"
name_from_env() {
	local d=$1 line=$2
	shift 2
	printf 'Name = %s\nDeviceType = dummy\n' "$line" >"$TMP/noname/tinc.conf"
	env -u HOST "$@" timeout 5 unshare --uts sh -c \
		"hostname fq-host.x; exec \"$d\" -c \"$TMP/noname\" -D -d1" 2>&1 </dev/null |
		grep -o 'hosts/[A-Za-z0-9_]*' | head -n 1
}
for d in "$FQTINC" "$TINC"; do
	l=$(daemon_label "$d")
	check_eq "Name = \$FQTV with FQTV=a-b.c ($l): invalid characters become _" \
		hosts/a_b_c "$(name_from_env "$d" '$FQTV' FQTV=a-b.c)"
	check_eq "Name = \$HOST, HOST unset ($l): the host name fq-host.x" \
		hosts/fq_host_x "$(name_from_env "$d" '$HOST')"
	check_eq "Name = \$HOST, HOST=h1 ($l): the variable wins" \
		hosts/h1 "$(name_from_env "$d" '$HOST' HOST=h1)"
done
sed -i 's/^Name = delta$/Name = $FQT_DELTA_NAME/' "${NODE_DIR[delta]}/tinc.conf"
export FQT_DELTA_NAME=delta
exchange_hosts delta epsilon

# ---------------------------------------------------------------- MinTimeout, ClampMSS, PMTUDiscovery

retry_delay() { # NAME: the first reconnect delay in its log
	grep -o -E '(re-establish outgoing connection|again) in [0-9]+' "${NODE_DIR[$1]}/log" |
		head -n 1 | grep -o -E '[0-9]+$'
}
start_node epsilon || finish
wait_for "grep -q 'Trying to re-establish' ${NODE_DIR[epsilon]}/log" 5
check_eq "MinTimeout = 7 (tinc 1.0.36, delta down): first retry in 7 s" 7 "$(retry_delay epsilon)"
start_node delta || finish
check "Name = \$FQT_DELTA_NAME: epsilon sees delta by that name" \
	wait_for "grep -q 'Connection with delta' ${NODE_DIR[epsilon]}/log" 10
D=$(vpn4 delta) E=$(vpn4 epsilon)
capture_start "$NS_R" "${NS_RIF[$NS_A]}" udp "udp" || finish
check_ping "pair up: delta -> epsilon" "$NS_A" "$E" 20
check "PMTUDiscovery = no: 1000-byte pings go by UDP at once" wait_udp_path "$NS_A" "$E" 1000 10
check "PMTUDiscovery = no: 1000-byte pings back by UDP" wait_udp_path "$NS_C" "$D" 1000 10

# syn_mss TAG FROM_NS TO_NAME: the MSS of a SYN from FROM_NS, seen on TO's tun
syn_mss() {
	local tag=$1 ns=$2 to=$3
	capture_start "${NODE_NS[$to]}" "${NODE_IF[$to]}" "$tag" "tcp[tcpflags] & tcp-syn != 0" || return 1
	nsx "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/$(vpn4 "$to")/9" 2>/dev/null
	wait_for "tcpdump -r $TMP/$tag.pcap -n -v 2>/dev/null | grep -q 'mss '" 5
	capture_stop "$tag" >/dev/null
	tcpdump -r "$TMP/$tag.pcap" -n -v 2>/dev/null | grep -o 'mss [0-9]*' | head -n 1 | awk '{print $2}'
}
# epsilon asks for clamping (its ACK options), so a SYN towards it is clamped
check_eq "control: a SYN from delta (PMTU 1400) to epsilon (ClampMSS default) is clamped to 1346" \
	1346 "$(syn_mss syn1 "$NS_A" epsilon)"
check_eq "PMTU 1400 with ClampMSS = no: a SYN from epsilon keeps MSS 1500 - 40 on delta" \
	1460 "$(syn_mss syn2 "$NS_C" delta)"

sleep 3 # a discovering daemon sends probe batches each second
capture_stop udp
# probes are the only UDP packets here whose size is not that of a ping
# (the pings were 84 and 1028 bytes inside, so 1100+ outside is a probe)
big=$(tcpdump -r "$TMP/udp.pcap" -n 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "length") n = $(i + 1) } n + 0 > 1100 || (n + 0 > 200 && n + 0 < 1000) { c++ } END { print c + 0 }')
all=$(tcpdump -r "$TMP/udp.pcap" -n 2>/dev/null | wc -l)
note "UDP packets between delta and epsilon: $all, of probe sizes: $big"
check_eq "PMTUDiscovery = no: no probe-sized UDP packets either way" 0 "$big"
check_cmp "PMTUDiscovery = no: data did cross by UDP" "$all" -ge 4
stop_all_nodes

# ---------------------------------------------------------------- MinTimeout (fq), MaxOutputBufferSize
# Small kernel socket buffers make the daemons' own output buffer fill up
# while epsilon is frozen, so its size (and the random early drop) matters.
nsx "$NS_A" sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096"
nsx "$NS_C" sysctl -qw net.ipv4.tcp_rmem="4096 4096 4096"
frozen_pings() { # prints how many of 50 pings sent while epsilon is frozen got answered
	local got
	kill -STOP "${NODE_PID[epsilon]}"
	nsx "$NS_A" ping -n -q -c 50 -i 0.02 -s 1000 -W 4 "$E" >"$TMP/frozen.out" 2>&1 &
	local p=$!
	sleep 1.5
	kill -CONT "${NODE_PID[epsilon]}"
	wait $p
	got=$(grep -o '[0-9]* received' "$TMP/frozen.out" | awk '{print $1}')
	echo "${got:-0}"
}
node_unset delta ClampMSS
node_opt delta TCPOnly=yes
node_opt delta conf:MaxOutputBufferSize=1518
exchange_hosts delta epsilon
# only delta's copy: epsilon's MTU is 1300 for delta, 1400 (delta's PMTU) for epsilon
echo "PMTU = 1300" >>"${NODE_DIR[delta]}/hosts/epsilon"
: >"${NODE_DIR[delta]}/log"
start_node delta || finish
wait_for "grep -q 'connect to epsilon again in' ${NODE_DIR[delta]}/log" 5
check_eq "MinTimeout = 7 (fqtinc, epsilon down): first retry in 7 s" 7 "$(retry_delay delta)"
wait_next_second epsilon
start_node epsilon || finish
check_ping "TCPOnly, MaxOutputBufferSize = 1518: delta -> epsilon" "$NS_A" "$E" 20
# epsilon clamps to 1400 - 54 on sending, delta (ClampMSS back on) to its
# MTU for the sender, 1300 - 54, on receiving, as 1.0.36 would
check_eq "ClampMSS (default) on delta: a received SYN is clamped to the sender's MTU 1300 - 54" \
	1246 "$(syn_mss syn3 "$NS_C" delta)"
check "MaxOutputBufferSize = 1518: a 1 MB transfer arrives intact" transfer small "$NS_A" "$NS_C" "$E" $MB
small=$(frozen_pings)
stop_node delta
node_set delta conf:MaxOutputBufferSize=1000000
wait_next_second delta
start_node delta || finish
check_ping "TCPOnly, MaxOutputBufferSize = 1000000: delta -> epsilon" "$NS_A" "$E" 20
large=$(frozen_pings)
note "pings answered while epsilon was frozen: $small of 50 with 1518 bytes, $large with 1000000"
check_cmp "MaxOutputBufferSize = 1518 drops more than 1000000 (random early drop)" "$small" -lt "$large"

for n in delta epsilon; do check "$n still running" node_alive "$n"; done
finish

#!/bin/bash
# Router-mode options, on fqtinc nodes in a chain with tinc 1.0.36:
#
#   alpha (fq) <-- beta (fq, ConnectTo alpha and gamma) --> gamma (tinc, IndirectData)
#
# gamma's IndirectData makes alpha's packets for gamma go through beta, so
# beta routes frames that are neither from nor for itself.
#
#   ScriptsInterpreter   alpha's tinc-up is not executable; it runs as "/bin/sh tinc-up"
#   Weight               hosts/beta and hosts/alpha say 100: both edges weigh 100
#   PMTU + ClampMSS      alpha's PMTU = 1400: SYNs toward gamma carry MSS 1346
#   (no DecrementTTL)    a ping with TTL 1 crosses beta
#   DecrementTTL         beta: TTL 1 -> "Time to live exceeded", TTL 2 passes
#   Forwarding = off     beta: "Destination Net Prohibited"
#   Forwarding = kernel  beta hands the frames to its kernel (seen on its tun),
#                        which routes them back into the tunnel: pings pass
#   TunnelServer         beta: alpha learns nothing of gamma and cannot reach it
#   DirectOnly           alpha: gamma is reached only through beta -> "Net Prohibited"
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools tcpdump
setup_test

topo_chain3
make_node "$NS_A" alpha fq PMTU=1400 ScriptsInterpreter=/bin/sh || finish
make_node "$NS_B" beta fq || finish
make_node "$NS_C" gamma tinc IndirectData=yes || finish
connect_to beta alpha
connect_to beta gamma
exchange_hosts alpha beta
exchange_hosts gamma beta
echo "Weight = 100" >>"${NODE_DIR[alpha]}/hosts/beta"
echo "Weight = 100" >>"${NODE_DIR[beta]}/hosts/alpha"
chmod 644 "${NODE_DIR[alpha]}/tinc-up"
C=$(vpn4 gamma)

ping_says() { # NS ADDR TEXT [PING ARGS]
	local ns=$1 addr=$2 text=$3 out
	shift 3
	out=$(nsx "$ns" ping -n -c1 -W1 "$@" "$addr" 2>&1)
	case "$out" in *"$text"*) return 0 ;; esac
	return 1
}
restart_beta() {
	stop_node beta
	node_unset beta DecrementTTL
	node_unset beta Forwarding
	node_unset beta TunnelServer
	local o
	for o in "$@"; do node_opt beta "conf:$o"; done
	start_node beta
}

start_node alpha || finish
pass "ScriptsInterpreter = /bin/sh ran alpha's non-executable tinc-up"
start_node gamma && start_node beta || finish
check_ping "ping alpha -> gamma through beta" "$NS_A" "$C" 20

# Weight
kill -USR2 "${NODE_PID[alpha]}"
wait_for "grep -q 'End of edges' ${NODE_DIR[alpha]}/log" 5
check "Weight 100: alpha's edge to beta weighs 100" grep -q -E '^ alpha to beta .* weight 100$' "${NODE_DIR[alpha]}/log"
check "Weight 100: beta's edge to alpha weighs 100" grep -q -E '^ beta to alpha .* weight 100$' "${NODE_DIR[alpha]}/log"

# MSS clamping: a SYN from alpha to gamma, seen on gamma's tun
capture_start "$NS_C" vpn3 syn "tcp[tcpflags] & tcp-syn != 0" || finish
nsx "$NS_A" timeout 2 bash -c "exec 3<>/dev/tcp/$C/9" 2>/dev/null
wait_for "tcpdump -r $TMP/syn.pcap -n -v 2>/dev/null | grep -q 'mss '" 5
capture_stop syn
mss=$(tcpdump -r "$TMP/syn.pcap" -n -v 2>/dev/null | grep -o 'mss [0-9]*' | head -n 1 | awk '{print $2}')
check_eq "PMTU 1400 on alpha: the SYN's MSS is clamped to 1400 - 54" 1346 "${mss:-none}"

# single pings, each retried for a few seconds: one lost echo (a sanitizer
# build is slow) is no verdict on TTL handling, which is the same every time
check "no DecrementTTL: a ping with TTL 1 crosses beta" wait_for "ping_ok $NS_A $C -t 1" 5

restart_beta DecrementTTL=yes || finish
check_ping "DecrementTTL: ping alpha -> gamma" "$NS_A" "$C" 20
check "DecrementTTL on beta: TTL 1 -> Time to live exceeded" wait_for "ping_says $NS_A $C 'Time to live exceeded' -t 1" 5
check "DecrementTTL on beta: TTL 2 passes" wait_for "ping_ok $NS_A $C -t 2" 5

restart_beta Forwarding=off || finish
check_ping "Forwarding = off: alpha -> beta still" "$NS_A" "$(vpn4 beta)" 20
check "Forwarding = off on beta: alpha -> gamma is Net Prohibited" \
	wait_for "ping_says $NS_A $C 'Destination Net Prohibited'" 10

nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=1
restart_beta Forwarding=kernel || finish
capture_start "$NS_B" vpn2 kernel "icmp and host $C" || finish
check_ping "Forwarding = kernel on beta: alpha -> gamma" "$NS_A" "$C" 20
nsx "$NS_A" ping -n -q -c 3 -i 0.2 -W 1 "$C" >/dev/null 2>&1
wait_for "[ \$(tcpdump -r $TMP/kernel.pcap -n 2>/dev/null | grep -c 'echo request') -ge 2 ]" 5
capture_stop kernel
seen=$(tcpdump -r "$TMP/kernel.pcap" -n 2>/dev/null | grep -c "$(vpn4 alpha) > $C: ICMP echo request")
check_cmp "Forwarding = kernel: beta's tun saw the echo requests (in and out again)" "$seen" -ge 2
nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=0

restart_beta TunnelServer=yes || finish
check_ping "TunnelServer: alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
check_ping "TunnelServer: gamma -> beta" "$NS_C" "$(vpn4 beta)" 10
check "TunnelServer on beta: alpha cannot reach gamma (no route for it)" \
	wait_for "ping_says $NS_A $C 'Destination Net Un'" 10

restart_beta || finish
stop_node alpha
node_opt alpha conf:DirectOnly=yes
start_node alpha || finish
kill -ALRM "${NODE_PID[beta]}"
check_ping "DirectOnly: alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
check "DirectOnly on alpha: gamma (behind beta) is Net Prohibited" \
	wait_for "ping_says $NS_A $C 'Destination Net Prohibited'" 10

for n in alpha beta gamma; do check "$n still running" node_alive "$n"; done
finish

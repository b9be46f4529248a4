#!/bin/bash
# Packet-crypto options and GraphDumpFile, fqtinc (alpha) with tinc 1.0.36
# (beta).  Each run: pings both ways, then 1000-byte pings that must cross
# by UDP (router counters), so the packet keys really work.
#
#   MACLength = 0       on alpha (packets to alpha carry no MAC), then on beta
#   Cipher = none       on alpha, then on both with Digest = none too
#   Digest = none       (with Cipher = none: plain, unauthenticated packets)
#   GraphDumpFile       a file (written through FILE.new) and "|command"
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

setup_interop_test nft

topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta tinc || finish
connect_to alpha beta
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}"

# run TITLE ALPHA_HOST_OPTIONS BETA_HOST_OPTIONS: fresh host files, start, check
run() {
	local title=$1 aopts=$2 bopts=$3 o
	for n in alpha beta; do
		node_unset "$n" MACLength
		node_unset "$n" Cipher
		node_unset "$n" Digest
	done
	for o in $aopts; do node_opt alpha "host:$o"; done
	for o in $bopts; do node_opt beta "host:$o"; done
	exchange_hosts alpha beta
	start_node beta && start_node alpha || return 1
	check_ping "$title: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
	check_ping "$title: ping beta -> alpha" "$NS_B" "$(vpn4 alpha)" 10
	check "$title: 1000-byte pings alpha -> beta by UDP" wait_udp_path "$NS_A" "$(vpn4 beta)" 1000 20
	check "$title: 1000-byte pings beta -> alpha by UDP" wait_udp_path "$NS_B" "$(vpn4 alpha)" 1000 20
	check_eq "$title: alpha had no key trouble" 0 "$(log_count alpha 'Unusable packet key|Error')"
}

run "MACLength 0 on alpha" "MACLength=0" "" || finish
stop_all_nodes
run "MACLength 0 on beta" "" "MACLength=0" || finish
stop_all_nodes
run "Cipher none on alpha" "Cipher=none" "" || finish
stop_all_nodes
run "Cipher and Digest none on both" "Cipher=none Digest=none" "Cipher=none Digest=none" || finish

# ---- GraphDumpFile, on the running pair
stop_node alpha
node_opt alpha "conf:GraphDumpFile=$TMP/graph.dot"
start_node alpha || finish
dumped() {
	grep -q '"alpha" -> "beta"' "$TMP/graph.dot" 2>/dev/null && grep -q '"beta" -> "alpha"' "$TMP/graph.dot"
}
if wait_for dumped 15; then
	pass "GraphDumpFile: both edges dumped ${WAITED}s after start"
else
	fail "GraphDumpFile: no complete dump within 15 s: $(tr '\n' ' ' <"$TMP/graph.dot" 2>/dev/null)"
fi
check_eq "GraphDumpFile: a digraph" "digraph {" "$(head -n 1 "$TMP/graph.dot")"
check "GraphDumpFile: both nodes listed" eval 'grep -q "^	\"alpha\" \[" $TMP/graph.dot && grep -q "^	\"beta\" \[" $TMP/graph.dot'
check "GraphDumpFile: no $TMP/graph.dot.new left over" eval "[ ! -e $TMP/graph.dot.new ]"
if command -v dot >/dev/null; then
	check "GraphDumpFile: Graphviz accepts it" dot -Tplain -o /dev/null "$TMP/graph.dot"
fi
stop_node alpha
node_set alpha "conf:GraphDumpFile=|cat >$TMP/graph-pipe.dot"
start_node alpha || finish
check "GraphDumpFile = |command: the command got the dump" \
	wait_for "grep -q '\"alpha\" -> \"beta\"' $TMP/graph-pipe.dot" 15

for n in alpha beta; do check "$n still running" node_alive "$n"; done
finish

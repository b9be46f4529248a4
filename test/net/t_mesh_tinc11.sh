#!/bin/bash
# A mixed mesh of six: two fqtinc nodes, two tinc 1.0.36 and two tinc
# 1.1pre18 nodes, on a fixed ring of ConnectTo links whose kinds alternate
#
#   fq1 -> tinc10a -> tinc11a -> fq2 -> tinc10b -> tinc11b -> fq1
#
# The two tinc 1.1 nodes have Ed25519 keys and each other's public key (as a
# 1.1 network would), but no meta connection to each other: what they
# exchange to reach each other is relayed by the 1.0-protocol nodes between
# them.  Towards fqtinc and tinc 1.0, whose host files carry no Ed25519 key,
# they must speak the legacy protocol.
#
# Checks: every ordered pair pings over IPv4 and IPv6; once path MTU
# discovery has settled, every pair's 1000-byte pings cross by UDP (not by
# the TCP fallback); tinc 1.1's own control program (`tinc info`) reports
# fqtinc and tinc 1.0 as legacy (17.0) nodes, reachable, with confirmed
# direct UDP, and the other 1.1 node as an SPTPS peer.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
need_tinc11
setup_test

NAMES=(fq1 tinc10a tinc11a fq2 tinc10b tinc11b)
declare -A KIND=([fq1]=fq [fq2]=fq [tinc10a]=tinc [tinc10b]=tinc [tinc11a]=tinc11 [tinc11b]=tinc11)
hosts=()
for i in "${!NAMES[@]}"; do hosts+=("$NS_PREFIX-h$((i + 1))"); done
topo_star "$NS_PREFIX-r" "${hosts[@]}"

for i in "${!NAMES[@]}"; do
	name=${NAMES[$i]}
	if [ "${KIND[$name]}" = tinc11 ]; then extra=ed25519=yes; else extra=; fi
	make_node "${hosts[$i]}" "$name" "${KIND[$name]}" $extra || finish
done
ring=""
for i in "${!NAMES[@]}"; do
	a=${NAMES[$i]} b=${NAMES[$(((i + 1) % ${#NAMES[@]}))]}
	connect_to "$a" "$b"
	ring+=" $a->$b"
done
exchange_hosts "${NAMES[@]}"
note "ConnectTo:$ring"
ports=()
for name in "${NAMES[@]}"; do ports+=("${NODE_PORT[$name]}"); done
counters_start "$NS_PREFIX-r" "${ports[@]}" || fail "nft counters on the router"

for name in "${NAMES[@]}"; do start_node "$name" || finish; done

pairs=$((${#NAMES[@]} * (${#NAMES[@]} - 1)))
for fam in 4 6; do
	start=$(now_ms)
	ping_pairs "$fam" 20 "${NAMES[@]}"
	[ -n "$PAIRS_FAILED" ] && note "IPv$fam pairs without an answer: $PAIRS_FAILED"
	check_eq "all $pairs ordered pairs ping over IPv$fam ($(ms_to_s $(($(now_ms) - start)))s)" "$pairs" "$PAIRS_OK"
done

# One pair at a time (the router's TCP counter is shared): wait until a
# 1000-byte ping goes by UDP.  Frames above the size a daemon has confirmed
# by PMTU probes go over the meta connections, relayed hop by hop.
start=$(now_ms)
late=""
for src in "${NAMES[@]}"; do
	for dst in "${NAMES[@]}"; do
		[ "$src" = "$dst" ] && continue
		if wait_for "udp_path_ok ${NODE_NS[$src]} $(vpn4 "$dst") 1000" $((30 - ($(now_ms) - start) / 1000)); then
			note "$src -> $dst: 1000-byte pings by UDP after ${WAITED}s"
		else
			late+=" $src->$dst"
		fi
	done
done
if [ -z "$late" ]; then
	pass "1000-byte pings of all $pairs pairs cross by UDP ($(ms_to_s $(($(now_ms) - start)))s)"
else
	fail "1000-byte pings still not by UDP after 30 s:$late"
fi
counters_note "in all"

# tinc_info NODE PEER: what tinc 1.1's control program, through NODE's
# control socket, says about PEER: "Status: ...", "Protocol: 17.M",
# "Reachability: ..." lines among others
tinc_info() {
	"$TINC11_CTL" -c "${NODE_DIR[$1]}" --pidfile="${NODE_DIR[$1]}/pid" info "$2" 2>&1
}
# info_has NODE PEER REGEX
info_has() { tinc_info "$1" "$2" | grep -q -E -- "$3"; }
info_line() { tinc_info "$1" "$2" | grep -E "^$3" | tr -s ' \t' ' '; }

for name in tinc11a tinc11b; do
	for peer in fq1 fq2 tinc10a tinc10b; do
		label=$(daemon_label "${NODE_DAEMON[$peer]}")
		status=$(info_line "$name" "$peer" Status)
		proto=$(info_line "$name" "$peer" Protocol)
		if [ "$proto" = "Protocol: 17.0" ] && [[ "$status" = *" reachable"* ]] && [[ "$status" != *sptps* ]]; then
			pass "$name reaches $peer ($label) by the legacy protocol ($proto; $status)"
		else
			fail "$name reaches $peer ($label) by the legacy protocol (got: ${proto:-no Protocol line}; ${status:-no Status line})"
		fi
		# the 1.1 node's UDP confirmation (its PMTU probes answered) towards the peer
		check "$name has a confirmed direct UDP path to $peer ($label)" \
			wait_for "info_has $name $peer '^Reachability: *directly with UDP'" 10
	done
done
# between the two 1.1 nodes: SPTPS, negotiated through REQ_KEY/ANS_KEY lines
# that fqtinc and tinc 1.0 relay unchanged
for pair in "tinc11a tinc11b" "tinc11b tinc11a"; do
	read -r name peer <<<"$pair"
	status=$(info_line "$name" "$peer" Status)
	proto=$(info_line "$name" "$peer" Protocol)
	if [[ "$status" = *" sptps"* ]] && [[ "$status" = *" validkey"* ]]; then
		pass "$name and $peer talk SPTPS (their key exchange relayed by the legacy nodes; $proto; $status)"
	else
		fail "$name and $peer talk SPTPS (got: ${proto:-no Protocol line}; ${status:-no Status line})"
	fi
done

for name in "${NAMES[@]}"; do check "$name still running" node_alive "$name"; done
finish

#!/bin/bash
# Normal or compatibility mode per UDP next hop in a mixed mesh (issue 4).
#
#   alpha (fqtinc) ---> beta (tinc 1.0.36) <--- gamma (fqtinc) <--- epsilon (tinc 1.0.36,
#                         ^                                          IndirectData)
#                         +--- delta (fqtinc, IndirectData)
#
# Arrows are ConnectTo; every node has PriorityInheritance = yes.  alpha and
# gamma have no meta connection but exchange UDP directly; delta and epsilon
# have IndirectData, so packets for them go through a relay: beta (tinc) for
# delta, gamma (fqtinc) for epsilon; and, as in tinc 1.0.36, a node with
# IndirectData sends everything through its meta neighbour itself.  The ECN bit travels through tinc 1.0.36
# (beta) in ADD_EDGE.  Expected, from the negotiation rules alone:
#
#   sender  target   UDP datagram goes to   mode    outer TOS of EF+ECT(0)
#   alpha   beta     beta                   compat  0xb8
#   alpha   gamma    gamma                  normal  0xba
#   alpha   delta    beta (relay)           compat  0xb8   (none straight to delta)
#   alpha   epsilon  gamma (relay)          normal  0xba   (none straight to epsilon)
#   gamma   epsilon  epsilon (relayed part) compat  0xb8
#   delta   alpha    beta (its nexthop)     compat  0xb8   (none straight to alpha)
#   gamma   alpha    alpha                  normal  0xba
#
# Checked in the router's capture (EF + ECT(0) pings, one run per row) and in
# the SIGUSR2 dumps of alpha, gamma and delta ("via" and "ecn normal|compat").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-120} # before lib.sh, which defaults it
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

setup_interop_test tcpdump

NS_R=$NS_PREFIX-r NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_C=$NS_PREFIX-c NS_D=$NS_PREFIX-d NS_E=$NS_PREFIX-e
topo_star "$NS_R" "$NS_A" "$NS_B" "$NS_C" "$NS_D" "$NS_E"
quiet_ipv6 "$NS_A" "$NS_B" "$NS_C" "$NS_D" "$NS_E"
# IngressCEThreshold=no: the test checks the RFC 6040 tables exactly, and a
# datagram that waited in a slow (sanitized, loaded) receiver's socket would
# otherwise come out CE-marked by the receive-side AQM.
make_node "$NS_A" alpha fq PriorityInheritance=yes IngressCEThreshold=no || finish
make_node "$NS_B" beta tinc PriorityInheritance=yes || finish
make_node "$NS_C" gamma fq PriorityInheritance=yes IngressCEThreshold=no || finish
make_node "$NS_D" delta fq PriorityInheritance=yes IndirectData=yes IngressCEThreshold=no || finish
make_node "$NS_E" epsilon tinc PriorityInheritance=yes IndirectData=yes || finish
connect_to alpha beta
connect_to gamma beta
connect_to delta beta
connect_to epsilon gamma
exchange_hosts alpha beta
exchange_hosts gamma beta
exchange_hosts delta beta
exchange_hosts epsilon gamma
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" "${NODE_PORT[gamma]}" \
	"${NODE_PORT[delta]}" "${NODE_PORT[epsilon]}"

for n in beta gamma alpha delta epsilon; do start_node "$n" || finish; done

# run k: payload 120 + 16k (IPv4) or 100 + 16k (IPv6), inner frame 162 + 16k
SIZE=120 NRUNS=12
EF_ECT0=$(tos_byte 46 $ECN_ECT0)
EF_NOTECT=$(tos_byte 46 $ECN_NOT_ECT)

# every sender -> target pair of the table must work by UDP before we measure
for pair in alpha:beta alpha:gamma alpha:delta alpha:epsilon delta:alpha gamma:alpha; do
	s=${pair%%:*} t=${pair#*:}
	check_ping "ping $s -> $t" "${NODE_NS[$s]}" "$(vpn4 "$t")" 20
	wait_udp_path "${NODE_NS[$s]}" "$(vpn4 "$t")" $((SIZE + 16 * NRUNS)) 20 || fail "pings $s -> $t go by UDP"
done
# ... and the direct UDP paths without a meta connection must carry the
# largest ping frame, or the sender falls back to relaying through beta
wait_minmtu alpha gamma $((162 + 16 * NRUNS)) 20 || fail "alpha confirmed its path MTU to gamma"
wait_minmtu gamma alpha $((162 + 16 * NRUNS)) 20 || fail "gamma confirmed its path MTU to alpha"
# the fqtinc pair turns to normal mode once its path check came back
wait_for "normal_mode_now alpha gamma && normal_mode_now gamma alpha" 10 || fail "alpha and gamma use normal mode toward each other"

cap_start "$NS_R" any mixed udp || finish
k=0
for pair in alpha:beta alpha:gamma alpha:delta alpha:epsilon delta:alpha gamma:alpha; do
	s=${pair%%:*} t=${pair#*:}
	ping_runs_begin "mixed.$s.$t"
	ping_run "$s>$t/v4" 4 "$(vpn4 "$t")" "$EF_ECT0" $((SIZE + 16 * k)) - 0
	ping_run "$s>$t/v6" 6 "$(vpn6 "$t")" "$EF_ECT0" $((SIZE - 20 + 16 * (k + 1))) - 0
	k=$((k + 2))
	ping_runs_exec "${NODE_NS[$s]}"
	check_eq "$s -> $t: ping runs answered" "$RUNS_TOTAL" "$RUNS_ANSWERED"
done
capture_stop mixed

# observation OUTER_FROM OUTER_TO: a window line per run of the given pair
: >"$TMP/mixed.win"
observe() { # PAIR-RUN-FILE LABEL-SUFFIX FROM TO
	awk -v suf="$2" -v src="$(outer4 "$3")" -v dport="${NODE_PORT[$4]}" \
		'{ print $1 "@" suf, $2, $3, src, dport, $7 }' "$1" >>"$TMP/mixed.win"
}
observe "$TMP/mixed.alpha.beta.res" alpha-beta alpha beta
observe "$TMP/mixed.alpha.gamma.res" alpha-gamma alpha gamma
observe "$TMP/mixed.alpha.delta.res" alpha-beta alpha beta
observe "$TMP/mixed.alpha.delta.res" alpha-delta alpha delta
observe "$TMP/mixed.alpha.epsilon.res" alpha-gamma alpha gamma
observe "$TMP/mixed.alpha.epsilon.res" alpha-epsilon alpha epsilon
observe "$TMP/mixed.alpha.epsilon.res" gamma-epsilon gamma epsilon
observe "$TMP/mixed.delta.alpha.res" delta-alpha delta alpha
observe "$TMP/mixed.delta.alpha.res" delta-beta delta beta
observe "$TMP/mixed.gamma.alpha.res" gamma-alpha gamma alpha
"$PYTHON" "$ECNHELP" windows "$TMP/mixed.pcap" "$TMP/mixed.win" >"$TMP/mixed.outer"
note "outer TOS per run@hop (count, TOS): $(tr '\n' ';' <"$TMP/mixed.outer")"

# expect RUN@HOP TOS: the echo requests of the run that crossed that hop (at
# least one) all carried TOS; TOS "-" means none crossed it.
expect() {
	local line cnt toses
	line=$(awk -v l="$1" '$1 == l' "$TMP/mixed.outer")
	cnt=$(echo "$line" | awk '{ print $2 }')
	toses=$(echo "$line" | awk '{ print $3 }')
	if [ "$2" = - ]; then
		check_eq "$1: no datagrams on this hop" "0 -" "${cnt:-?} ${toses:-?}"
	elif [ "${cnt:-0}" -ge 1 ] && [ "$toses" = "$2" ]; then
		pass "$1: outer $toses ($cnt datagrams)"
	else
		fail "$1: outer ${toses:-?} in ${cnt:-0} datagrams, expected $2"
	fi
}
for fam in v4 v6; do
	expect "alpha>beta/$fam@alpha-beta" "$EF_NOTECT"
	expect "alpha>gamma/$fam@alpha-gamma" "$EF_ECT0"
	expect "alpha>delta/$fam@alpha-beta" "$EF_NOTECT"
	expect "alpha>delta/$fam@alpha-delta" -
	expect "alpha>epsilon/$fam@alpha-gamma" "$EF_ECT0"
	expect "alpha>epsilon/$fam@alpha-epsilon" -
	expect "alpha>epsilon/$fam@gamma-epsilon" "$EF_NOTECT"
	expect "delta>alpha/$fam@delta-beta" "$EF_NOTECT"
	expect "delta>alpha/$fam@delta-alpha" -
	expect "gamma>alpha/$fam@gamma-alpha" "$EF_ECT0"
done

# the dumps: "via" and the mode of the via node
# node_mode DUMPER TARGET: "HOP MODE", the UDP next hop and its ecn mode
node_mode() {
	local via
	via=$(dump_node_field "$1" "$2" via)
	# a via of the dumping node itself means "to the next hop of the meta
	# graph" (the target itself when it is a meta neighbour)
	[ "$via" = "$1" ] && via=$(dump_node_field "$1" "$2" nexthop)
	echo "$via $(dump_node_field "$1" "$via" ecn)"
}
for n in alpha gamma delta; do usr2_dump "$n" || fail "$n dumps on SIGUSR2"; done
check_eq "alpha: beta" "beta compat" "$(node_mode alpha beta)"
check_eq "alpha: gamma" "gamma normal" "$(node_mode alpha gamma)"
check_eq "alpha: delta (IndirectData, relayed by tinc)" "beta compat" "$(node_mode alpha delta)"
check_eq "alpha: epsilon (IndirectData, relayed by fqtinc)" "gamma normal" "$(node_mode alpha epsilon)"
check_eq "gamma: alpha" "alpha normal" "$(node_mode gamma alpha)"
check_eq "gamma: beta" "beta compat" "$(node_mode gamma beta)"
check_eq "gamma: epsilon (its IndirectData neighbour)" "epsilon compat" "$(node_mode gamma epsilon)"
check_eq "delta: alpha (delta has IndirectData)" "beta compat" "$(node_mode delta alpha)"
check_eq "delta: gamma (delta has IndirectData)" "beta compat" "$(node_mode delta gamma)"
# what delta learnt about the others through tinc 1.0.36 (beta's ADD_EDGEs)
check_eq "delta's dump: alpha announced RFC 6040 (bit via beta's edge)" normal "$(dump_node_field delta alpha ecn)"
check_eq "delta's dump: epsilon (tinc) did not" compat "$(dump_node_field delta epsilon ecn)"
for n in alpha gamma delta; do
	check_eq "$n dropped nothing as CE over Not-ECT" 0 "$(dump_num "$n" 'CE over Not-ECT dropped')"
done
for n in alpha beta gamma delta epsilon; do check "$n still running" node_alive "$n"; done
finish

#!/bin/bash
# ECN decapsulation per RFC 6040 §4.2 (issue 4), whoever the sender is.
#
#   alpha (fqtinc, A) --ConnectTo--> beta (fqtinc, B) <--ConnectTo-- gamma (tinc 1.0.36, C)
#
# The router forces the outer ECN field of every UDP datagram to beta's port
# with nft (`ip ecn set ...` / `ip6 ecn set ...`) to each of Not-ECT, ECT(1),
# ECT(0), CE in turn; alpha and gamma (PriorityInheritance = yes, so tinc
# copies the inner TOS to the outer header before the router rewrites it)
# ping beta with every inner family x inner ECN, DSCP AF41, one payload size
# per combination.  A capture on beta's tun device shows the inner packets
# leaving the decapsulator:
#   * the inner ECN is exactly RFC 6040 Figure 4 (typed in ecnlib.sh), the
#     DSCP untouched, every IPv4 header checksum valid;
#   * outer CE over inner Not-ECT never reaches the tun (dropped), the ping
#     goes unanswered, beta counts each drop ("CE over Not-ECT dropped N" in
#     its SIGUSR2 dump) and logs it;
#   * the CE-propagated and unexpected-combination counters match the table.
# Both outer families in router mode, and outer IPv4 in switch mode (tap
# devices; there the counters are checked as lower bounds, since the
# kernels' own multicast crosses the switch too).  The router's rewrite
# counter proves nft did its job.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-120} # before lib.sh, which defaults it
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

setup_interop_test tcpdump nft

topo_chain3 # NS_R, and NS_A NS_B NS_C around it
quiet_ipv6 "$NS_A" "$NS_B" "$NS_C"
# IngressCEThreshold=no: the test checks the RFC 6040 tables exactly, and a
# datagram that waited in a slow (sanitized, loaded) receiver's socket would
# otherwise come out CE-marked by the receive-side AQM.
make_node "$NS_A" alpha fq af=any PriorityInheritance=yes IngressCEThreshold=no || finish
make_node "$NS_B" beta fq af=any PriorityInheritance=yes IngressCEThreshold=no || finish
make_node "$NS_C" gamma tinc af=any PriorityInheritance=yes || finish
connect_to alpha beta
connect_to gamma beta
exchange_hosts alpha beta gamma
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" "${NODE_PORT[gamma]}"

DSCP=34 # AF41: must come out unchanged
# payload size of the run (inner ECN I, outer ECN O): unique per combination
size_of() { echo $((100 + 16 * ($2 * 4 + $1))); }
MAXSIZE=$(size_of 3 3)

# static_neighbours: in switch mode, permanent ARP/ND entries between beta and
# the senders, so no address resolution has to cross the tunnel while the
# router forces the outer ECN (a Not-ECT neighbour solicitation under
# outer CE is dropped, exactly as RFC 6040 says, and would break the pings).
static_neighbours() {
	local s mac_b mac_s
	mac_b=$(ip -n "$NS_B" link show "${NODE_IF[beta]}" | awk '/link\/ether/ { print $2 }')
	for s in alpha gamma; do
		mac_s=$(ip -n "${NODE_NS[$s]}" link show "${NODE_IF[$s]}" | awk '/link\/ether/ { print $2 }')
		ip -n "${NODE_NS[$s]}" neigh replace "$(vpn4 beta)" lladdr "$mac_b" dev "${NODE_IF[$s]}" nud permanent
		ip -n "${NODE_NS[$s]}" -6 neigh replace "$(vpn6 beta)" lladdr "$mac_b" dev "${NODE_IF[$s]}" nud permanent
		ip -n "$NS_B" neigh replace "$(vpn4 "$s")" lladdr "$mac_s" dev "${NODE_IF[beta]}" nud permanent
		ip -n "$NS_B" -6 neigh replace "$(vpn6 "$s")" lladdr "$mac_s" dev "${NODE_IF[beta]}" nud permanent
	done
}

# round OUTER [MODE]
round() {
	local outer=$1 mode=${2:-router} tag=r$1 sender o i fam label size exp r addr ns
	[ "$mode" = switch ] && tag=$tag-switch
	note "---- round: outer IPv$outer, $mode mode"
	for n in alpha beta gamma; do
		node_set "$n" "AddressFamily=ipv$outer" "Mode=$mode"
		if [ "$mode" = switch ]; then node_set "$n" DeviceType=tap; else node_set "$n" DeviceType=tun; fi
	done
	start_node beta || return 1
	start_node alpha || return 1
	start_node gamma || return 1
	[ "$mode" = switch ] && static_neighbours
	for sender in alpha gamma; do
		ns=${NODE_NS[$sender]}
		if ! wait_udp_path "$ns" "$(vpn4 beta)" "$MAXSIZE" 20; then
			fail "$tag: pings $sender -> beta go by UDP"
			stop_all_nodes
			return 1
		fi
	done
	cap_start "$NS_B" "${NODE_IF[beta]}" "$tag" icmp or icmp6 || return 1
	for o in 0 1 2 3; do
		nft_ecn_set "$NS_R" "$outer" "${NODE_PORT[beta]}" "${ECN_NAMES[$o]}" ||
			{ fail "$tag: nft rule for outer ${ECN_NAMES[$o]}"; return 1; }
		for sender in alpha gamma; do
			ping_runs_begin "$tag.$sender.$o"
			for fam in 4 6; do
				for i in 0 1 2 3; do
					if [ "$fam" = 4 ]; then addr=$(vpn4 beta); else addr=$(vpn6 beta); fi
					ping_run "$sender/v$fam/in-${ECN_NAMES[$i]}/out-${ECN_NAMES[$o]}" "$fam" "$addr" \
						"$(tos_byte $DSCP "$i")" "$(size_of "$i" "$o")" - 0
				done
			done
			ping_runs_exec "${NODE_NS[$sender]}"
		done
		note "$tag: outer ${ECN_NAMES[$o]}: the router rewrote $(nft_ecn_count "$NS_R") datagrams"
		check_cmp "$tag: outer ${ECN_NAMES[$o]}: nft rewrote the datagrams" "$(nft_ecn_count "$NS_R")" -ge $((2 * 8 * PING_COUNT))
	done
	nft_ecn_set "$NS_R" "$outer" "${NODE_PORT[beta]}" none
	capture_stop "$tag"
	"$PYTHON" "$ECNHELP" inner "$TMP/$tag.pcap" >"$TMP/$tag.inner"

	local bad=0 total=0 seen toses csums answered want_answer table=""
	for sender in alpha gamma; do
		for o in 0 1 2 3; do
			RUN_TAG=$tag.$sender.$o
			for fam in 4 6; do
				for i in 0 1 2 3; do
					label="$sender/v$fam/in-${ECN_NAMES[$i]}/out-${ECN_NAMES[$o]}"
					size=$(size_of "$i" "$o")
					if [ "$fam" = 4 ]; then addr=$(vpn4 "$sender"); else addr=$(vpn6 "$sender"); fi
					r=$(decap_expect "$i" "$o")
					seen=$(awk -v f="$fam" -v s="$addr" -v p="$size" '$1 == f && $2 == s && $3 == p' "$TMP/$tag.inner")
					toses=$(echo "$seen" | awk 'NF { print $4 }' | sort -u | tr '\n' ',' | sed 's/,$//')
					csums=$(echo "$seen" | awk 'NF { print $5 }' | sort -u | tr '\n' ',' | sed 's/,$//')
					if run_answered "$label"; then answered=yes; else answered=no; fi
					total=$((total + 1))
					if [ "$r" = drop ]; then
						table+="$label:dropped($(echo "$seen" | grep -c .)) "
						[ "$(echo "$seen" | grep -c .)" = 0 ] && [ "$answered" = no ] && continue
						fail "$tag: $label must be dropped: $(echo "$seen" | grep -c .) reached the tun, answered $answered"
					else
						exp=$(tos_byte $DSCP "$r")
						table+="$label:$toses "
						[ "$(echo "$seen" | grep -c .)" -ge 1 ] && [ "$toses" = "$exp" ] &&
							[ "$csums" = ok ] && [ "$answered" = yes ] && continue
						fail "$tag: $label: inner $toses (checksums $csums) in $(echo "$seen" | grep -c .) packets, answered $answered; expected $exp in (up to) $PING_COUNT"
					fi
					bad=$((bad + 1))
				done
			done
		done
	done
	note "$tag: inner TOS on beta's tun per run: $table"
	check_eq "$tag: runs decapsulated exactly per RFC 6040" "$total/$total" "$((total - bad))/$total"

	# beta started afresh this round: 2 senders x 2 families x PING_COUNT packets per table cell
	local per_cell=$((2 * 2 * PING_COUNT))
	local exp_drops=$((per_cell * 1)) # (Not-ECT, CE)
	local exp_prop=$((per_cell * 2))  # (ECT(1), CE), (ECT(0), CE)
	local exp_unexp=$((per_cell * 3)) # (Not-ECT, ECT(1)), (Not-ECT, ECT(0)), (CE, ECT(1))
	usr2_dump beta || fail "$tag: beta dumps on SIGUSR2"
	note "$tag: beta: $(grep -E 'ecn: |replay window' "$TMP/beta.dump" | sed 's/^.*\(ecn: \|replay window\)/\1/' | tr '\n' ';')"
	if [ "$mode" = router ]; then
		check_eq "$tag: beta counts CE over Not-ECT drops" "$exp_drops" "$(dump_num beta 'CE over Not-ECT dropped')"
		check_eq "$tag: beta counts CE propagated into ECT packets" "$exp_prop" "$(dump_num beta 'CE propagated')"
		check_eq "$tag: beta counts unexpected combinations" "$exp_unexp" "$(dump_num beta 'unexpected')"
	else
		# the kernels' own multicast (MLD reports) crosses a switch too
		check_cmp "$tag: beta counts CE over Not-ECT drops" "$(dump_num beta 'CE over Not-ECT dropped')" -ge "$exp_drops"
		check_cmp "$tag: beta counts CE propagated into ECT packets" "$(dump_num beta 'CE propagated')" -ge "$exp_prop"
		check_cmp "$tag: beta counts unexpected combinations" "$(dump_num beta 'unexpected')" -ge "$exp_unexp"
	fi
	stop_all_nodes
}

round 4
round 6
round 4 switch

logged=$(log_count beta 'Frame from (alpha|gamma) .*outer ECN CE over inner Not-ECT')
check_cmp "beta logged the CE-over-Not-ECT drops (rate-limited)" "$logged" -ge 2
note "beta's drop log lines: $logged, e.g.: $(grep -m1 'outer ECN CE over inner Not-ECT' "${NODE_DIR[beta]}/log")"
finish

#!/bin/bash
# ECN encapsulation and DSCP inheritance (issue 4), captured on the router.
#
#   alpha (fqtinc, A) --ConnectTo--> beta  (fqtinc, B)
#                     --ConnectTo--> gamma (tinc 1.0.36, C)
#
# Rounds: outer IPv4 and IPv6 x PriorityInheritance yes and no, plus one
# round with `ECN = no` on alpha, one with `ECN = no` only in alpha's copy
# of hosts/beta (compatibility mode toward beta alone), and one in switch
# mode (tap devices, the inner packets inside real Ethernet frames).  In each round alpha pings beta and gamma
# with every inner family (IPv4, IPv6) x DSCP {CS0, CS1, AF41, EF} x ECN
# {Not-ECT, ECT(1), ECT(0), CE}, one `ping -Q` run per combination, while the
# router captures alpha's link.  Every echo request datagram must carry the
# outer TOS / traffic class the test computes from the tables in ecnlib.sh:
#   DSCP: the inner DSCP with PriorityInheritance, 0 without;
#   ECN:  RFC 6040 normal mode (copy) toward beta, which announced RFC 6040
#         decapsulation; compatibility mode (Not-ECT) toward gamma (tinc
#         1.0.36), toward everyone with ECN = no, toward beta with ECN = no
#         in hosts/beta.
# beta also pings alpha (the other direction of the fqtinc pair) with EF and
# ECT(0)/CE; a capture on alpha's tun checks that the pings really left with
# the TOS asked for (the test's own precondition).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-120} # before lib.sh, which defaults it
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

setup_interop_test tcpdump

topo_chain3 # NS_R, and NS_A NS_B NS_C around it
# IngressCEThreshold=no: the test checks the RFC 6040 tables exactly, and a
# datagram that waited in a slow (sanitized, loaded) receiver's socket would
# otherwise come out CE-marked by the receive-side AQM.
make_node "$NS_A" alpha fq af=any IngressCEThreshold=no || finish
make_node "$NS_B" beta fq af=any IngressCEThreshold=no || finish
make_node "$NS_C" gamma tinc af=any || finish
connect_to alpha beta
connect_to alpha gamma
exchange_hosts alpha beta gamma
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" "${NODE_PORT[gamma]}"

# Run k's inner frame is 162 + 16k bytes (IPv4: 14+20+8+payload, IPv6:
# 14+40+8+payload): unique per run, equal modulo any cipher block.
SIZE4=120 SIZE6=100 NRUNS=68
MAXSIZE4=$((SIZE4 + 16 * NRUNS))

# round OUTER PI ECN [MODE]: run one configuration and check it; ECN is
# alpha's setting: yes, no, or host (yes in tinc.conf, no in hosts/beta)
round() {
	local outer=$1 pi=$2 ecn=$3 mode=${4:-router} tag="r$1-pi$2-ecn$3" n src
	local peer fam dscp e label tos expd expe exp cnt toses
	[ "$mode" = switch ] && tag=$tag-switch
	note "---- round: outer IPv$outer, PriorityInheritance = $pi, ECN = $ecn (alpha), $mode mode"
	for n in alpha beta gamma; do
		node_set "$n" "AddressFamily=ipv$outer" "PriorityInheritance=$pi" "Mode=$mode"
		if [ "$mode" = switch ]; then node_set "$n" DeviceType=tap; else node_set "$n" DeviceType=tun; fi
	done
	sed -i '/^ECN[[:space:]]*=/Id' "${NODE_DIR[alpha]}/hosts/beta"
	if [ "$ecn" = host ]; then
		node_set alpha conf:ECN=yes
		echo "ECN = no" >>"${NODE_DIR[alpha]}/hosts/beta"
	else
		node_set alpha "conf:ECN=$ecn"
	fi
	start_node beta || return 1
	start_node gamma || return 1
	start_node alpha || return 1
	# the pings (up to MAXSIZE4 bytes) must go by UDP, not over the meta connection
	for peer in beta gamma; do
		if ! wait_udp_path "$NS_A" "$(vpn4 $peer)" $MAXSIZE4 20; then
			fail "$tag: pings alpha -> $peer go by UDP"
			stop_all_nodes
			return 1
		fi
	done
	wait_udp_path "$NS_B" "$(vpn4 alpha)" $MAXSIZE4 10 || fail "$tag: pings beta -> alpha go by UDP"
	if [ "$ecn" = yes ]; then
		wait_for "normal_mode_now alpha beta" 10 || fail "$tag: alpha turns to normal mode toward beta"
	fi

	if [ "$outer" = 6 ]; then src=$(outer6 alpha); else src=$(outer4 alpha); fi
	cap_start "$NS_R" "${NS_RIF[$NS_A]}" "$tag" udp || return 1
	cap_start "$NS_A" "${NODE_IF[alpha]}" "$tag-tun" icmp or icmp6 || return 1

	local k=0
	ping_runs_begin "$tag"
	for peer in beta gamma; do
		for fam in 4 6; do
			for dscp in $DSCP_LIST; do
				for e in 0 1 2 3; do
					label=$peer/v$fam/$dscp/${ECN_NAMES[$e]}
					tos=$(tos_byte "${DSCP_VAL[$dscp]}" "$e")
					if [ "$fam" = 4 ]; then
						ping_run "$label" 4 "$(vpn4 $peer)" "$tos" $((SIZE4 + 16 * k)) "$src" "${NODE_PORT[$peer]}"
					else
						ping_run "$label" 6 "$(vpn6 $peer)" "$tos" $((SIZE6 + 16 * k)) "$src" "${NODE_PORT[$peer]}"
					fi
					k=$((k + 1))
				done
			done
		done
	done
	ping_runs_exec "$NS_A"
	local a_runs=$RUNS_TOTAL a_answered=$RUNS_ANSWERED
	cp "$TMP/$tag.win" "$TMP/$tag.a.win"

	# the reverse direction of the fqtinc pair, a few combinations
	local bsrc
	if [ "$outer" = 6 ]; then bsrc=$(outer6 beta); else bsrc=$(outer4 beta); fi
	ping_runs_begin "$tag.b"
	for fam in 4 6; do
		for e in 2 3; do
			label=alpha/v$fam/ef/${ECN_NAMES[$e]}
			tos=$(tos_byte 46 "$e")
			if [ "$fam" = 4 ]; then
				ping_run "$label" 4 "$(vpn4 alpha)" "$tos" $((SIZE4 + 16 * k)) "$bsrc" "${NODE_PORT[alpha]}"
			else
				ping_run "$label" 6 "$(vpn6 alpha)" "$tos" $((SIZE6 + 16 * k)) "$bsrc" "${NODE_PORT[alpha]}"
			fi
			k=$((k + 1))
		done
	done
	ping_runs_exec "$NS_B"
	local b_runs=$RUNS_TOTAL b_answered=$RUNS_ANSWERED

	capture_stop "$tag-tun"
	capture_stop "$tag"
	check_eq "$tag: all alpha ping runs answered" "$a_runs" "$a_answered"
	check_eq "$tag: all beta ping runs answered" "$b_runs" "$b_answered"

	# precondition: the inner echo requests left alpha with each TOS asked for
	local want_inner have_inner
	want_inner=$(for fam in 4 6; do for dscp in $DSCP_LIST; do for e in 0 1 2 3; do
		echo "$fam $(tos_byte "${DSCP_VAL[$dscp]}" "$e")"; done; done; done | sort -u | tr '\n' ' ')
	have_inner=$("$PYTHON" "$ECNHELP" inner "$TMP/$tag-tun.pcap" | awk '{ print $1, $4 }' | sort -u | tr '\n' ' ')
	if [ "$want_inner" = "$have_inner" ]; then
		pass "$tag: inner echo requests left alpha with all 32 family/TOS combinations"
	else
		fail "$tag: inner echo requests: expected '$want_inner', got '$have_inner'"
	fi

	# the outer bytes, run by run
	cat "$TMP/$tag.a.win" "$TMP/$tag.b.win" >"$TMP/$tag.all.win"
	"$PYTHON" "$ECNHELP" windows "$TMP/$tag.pcap" "$TMP/$tag.all.win" >"$TMP/$tag.outer"
	local bad=0 total=0 table=""
	while read -r label cnt toses; do
		peer=${label%%/*}
		dscp=$(echo "$label" | cut -d/ -f3)
		e=$(echo "$label" | cut -d/ -f4)
		for i in 0 1 2 3; do [ "${ECN_NAMES[$i]}" = "$e" ] && e=$i; done
		if [ "$pi" = yes ]; then expd=${DSCP_VAL[$dscp]}; else expd=0; fi
		# normal mode only toward fqtinc peers, and only with ECN = yes at the sender
		if [ "$peer" = gamma ] || { [ "$peer" = beta ] && [ "$ecn" != yes ]; }; then
			expe=${ENCAP_COMPAT[$e]}
		else
			expe=${ENCAP_NORMAL[$e]}
		fi
		exp=$(tos_byte "$expd" "$expe")
		total=$((total + 1))
		table+="$label:$toses "
		# (a request lost on a loaded machine is no failure; a wrong byte is)
		if [ "$cnt" -lt 1 ] || [ "$toses" != "$exp" ]; then
			bad=$((bad + 1))
			fail "$tag: $label: outer $toses in $cnt datagrams, expected $exp in (up to) $PING_COUNT"
		fi
	done <"$TMP/$tag.outer"
	note "$tag outer TOS per run: $table"
	check_eq "$tag: runs with the expected outer TOS" "$total/$total" "$((total - bad))/$total"

	usr2_dump alpha || fail "$tag: alpha dumps on SIGUSR2"
	if [ "$ecn" = yes ]; then
		check_eq "$tag: alpha's dump: beta in normal mode" normal "$(dump_node_field alpha beta ecn)"
	else
		local where=tinc.conf
		[ "$ecn" = host ] && where=hosts/beta
		check_eq "$tag: alpha's dump: beta in compatibility mode (ECN = no in $where)" compat "$(dump_node_field alpha beta ecn)"
	fi
	check_eq "$tag: alpha's dump: gamma (tinc 1.0.36) in compatibility mode" compat "$(dump_node_field alpha gamma ecn)"
	check_eq "$tag: alpha dropped nothing as CE over Not-ECT" 0 "$(dump_num alpha 'CE over Not-ECT dropped')"
	stop_all_nodes
}

round 4 yes yes
round 4 no yes
round 6 yes yes
round 6 no yes
round 4 yes no
round 4 yes host
round 6 yes yes switch

finish

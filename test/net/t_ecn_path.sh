#!/bin/bash
# ECN path validation (issue 15, doc/protocol.md §10.4), with nft on the
# router between the nodes breaking the path alpha -> beta in turn:
#
#   alpha (fqtinc) --ConnectTo--> beta  (fqtinc)
#                  --ConnectTo--> gamma (tinc 1.0.36)
#                  --ConnectTo--> delta (tinc 1.1pre18)
#
#   1. ECT black hole (`ip ecn != not-ect drop`), ECNValidationInterval 60 on
#      alpha, so only the continuous counting can find it: ECN-capable pings
#      get through again within 10 s, and data datagrams to beta leave
#      Not-ECT from then on;
#   2. (alpha restarted with ECNValidationInterval 4) CE rewritten to ECT(0):
#      alpha stops sending ECT outer headers within 10 s; the rule removed,
#      normal mode again after the re-validation interval;
#   3. ECN bleached to Not-ECT: state "bleached", no ping lost;
#   4. DSCP bleached to CS0: "dscp bleached", ECN still capable;
#   5. toward gamma (tinc 1.0.36) and delta (tinc 1.1) no probe-sized
#      datagram ever leaves alpha, while UDP traffic does, and toward beta
#      probes do; the probe traffic per minute is measured.
# States come from alpha's SIGUSR2 dump ("ecn MODE ecnpath STATE dscp STATE").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

setup_interop_test nft
need_tinc11

NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_C=$NS_PREFIX-c NS_D=$NS_PREFIX-d NS_R=$NS_PREFIX-r
topo_star "$NS_R" "$NS_A" "$NS_B" "$NS_C" "$NS_D"
# The router counts and rewrites per packet, so per datagram (nic_links)
nic_links "$NS_A" "$NS_B" "$NS_C" "$NS_D" || skip "cannot limit GSO on the links"
make_node "$NS_A" alpha fq IngressCEThreshold=no ECNValidationInterval=60 || finish
make_node "$NS_B" beta fq IngressCEThreshold=no ECNValidationInterval=4 || finish
make_node "$NS_C" gamma tinc || finish
make_node "$NS_D" delta tinc11 || finish
connect_to alpha beta
connect_to alpha gamma
connect_to alpha delta
exchange_hosts alpha beta gamma delta
quiet_ipv6 "$NS_A" "$NS_B" "$NS_C" "$NS_D"
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}" "${NODE_PORT[gamma]}" "${NODE_PORT[delta]}"

A4=$(outer4 alpha) B4=$(outer4 beta)
PB=${NODE_PORT[beta]} PC=${NODE_PORT[gamma]} PD=${NODE_PORT[delta]}
# A probe is a 40-byte frame: with the default cipher and MAC (AES-256-CBC,
# 4 bytes) a 52-byte UDP payload, UDP length 60 (the counter toward beta
# proves it). Data frames here are larger (pings -s 100, PMTU probes of 64
# bytes and up); tinc 1.1's own short probes, which alpha echoes at their
# length, are shorter.
PROBE_UDP_LEN=60 SMALL=80

# Counters, ahead of the rule that breaks the path: what alpha sends.
nsx "$NS_R" nft -f - <<EOF || finish
table inet fqtpath {
	counter data_ect_to_b { }
	counter small_to_b { }
	counter udp_to_old { }
	counter small_to_old { }
	chain count {
		type filter hook forward priority -20; policy accept;
		ip saddr $A4 ip daddr $B4 udp dport $PB udp length >= $SMALL ip ecn != not-ect counter name "data_ect_to_b"
		ip saddr $A4 udp dport $PB udp length $PROBE_UDP_LEN counter name "small_to_b"
		ip saddr $A4 udp dport { $PC, $PD } counter name "udp_to_old"
		ip saddr $A4 udp dport { $PC, $PD } udp length $PROBE_UDP_LEN counter name "small_to_old"
	}
}
EOF

# path_rule RULE | none: what the router does to alpha -> beta datagrams
path_rule() {
	nsx "$NS_R" nft delete table inet fqtbreak 2>/dev/null
	[ "$1" = none ] && return 0
	nsx "$NS_R" nft -f - <<-EOF
		table inet fqtbreak {
			chain act {
				type filter hook forward priority -10; policy accept;
				ip saddr $A4 ip daddr $B4 udp dport $PB $1
			}
		}
	EOF
}

# nft_counter NAME [packets|bytes]
nft_counter() {
	nsx "$NS_R" nft list counter inet fqtpath "$1" | awk -v w="${2:-packets}" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }'
}
nft_reset() { nsx "$NS_R" nft reset counter inet fqtpath "$1" >/dev/null; }

# field PEER FIELD: from a fresh dump of alpha
field() { usr2_dump alpha >/dev/null 2>&1 && dump_node_field alpha "$1" "$2"; }
state_is() { [ "$(field beta ecnpath)" = "$1" ]; }
# wait_state STATE SECONDS WHAT
wait_state() {
	if wait_for "state_is $1" "$2"; then
		pass "$3: alpha finds the path to beta $1 after ${WAITED}s"
		return 0
	fi
	fail "$3: alpha finds the path to beta $1 within $2 s (it says: $(field beta ecnpath))"
	return 1
}

# pings TOS COUNT: echo requests alpha -> beta, prints how many were answered
pings() {
	nsx "$NS_A" ping -n -q -c "$2" -i 0.1 -W 2 -Q "$1" -s 100 "$(vpn4 beta)" 2>/dev/null |
		awk '/received/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) print $i }'
}

start_all() {
	start_node beta || finish
	start_node gamma || finish
	start_node delta || finish
	start_node alpha || finish
	wait_udp_path "$NS_A" "$(vpn4 beta)" 200 20 || fail "pings alpha -> beta go by UDP"
}

start_all
note "---- 0: a clean path"
wait_state capable 10 "clean path"
check_eq "clean path: packets to beta in normal mode" "$(field beta ecn)" normal
check_eq "clean path: DSCP kept" "$(field beta dscp)" kept
check_eq "gamma (tinc 1.0.36) is not probed" "$(field gamma ecnpath)" unknown
check_eq "gamma (tinc 1.0.36) in compatibility mode" "$(field gamma ecn)" compat
wait_udp_path "$NS_A" "$(vpn4 gamma)" 200 20 || fail "pings alpha -> gamma go by UDP"
wait_udp_path "$NS_A" "$(vpn4 delta)" 200 20 || fail "pings alpha -> delta go by UDP"
check_eq "delta (tinc 1.1) is not probed" "$(field delta ecnpath)" unknown

note "---- 1: ECT black hole, found by counting"
path_rule "ip ecn != not-ect drop"
t0=$EPOCHREALTIME
ip netns exec "$NS_A" ping -n -D -i 0.2 -c 60 -W 1 -Q 0x02 -s 100 "$(vpn4 beta)" >"$TMP/bh.ping" 2>&1 &
ping_pid=$!
wait_state black-holed 10 "black hole"
wait "$ping_pid"
first=$(awk -F'[][]' '/bytes from/ { print $2; exit }' "$TMP/bh.ping")
if [ -n "$first" ]; then
	delay=$(awk -v a="$first" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	check_cmp "black hole: first ECT(0) ping answered within 10 s (${delay}s)" "${delay%.*}" -lt 10
else
	fail "black hole: no ECT(0) ping answered at all"
fi
check_cmp "black hole: ECT(0) pings answered once found" "$(grep -c 'bytes from' "$TMP/bh.ping")" -ge 20
nft_reset data_ect_to_b
check_eq "black hole: 20 ECT(0) pings answered" "$(pings 0x02 20)" 20
check_eq "black hole: data datagrams to beta leave Not-ECT" "$(nft_counter data_ect_to_b)" 0
check_eq "black hole: compatibility mode" "$(field beta ecn)" compat
check_eq "black hole: logged once" "$(log_count alpha 'Path to beta .* drops ECN-capable datagrams')" 1
path_rule none

note "---- alpha again, ECNValidationInterval = 4"
stop_node alpha
node_set alpha ECNValidationInterval=4
start_node alpha || finish
wait_udp_path "$NS_A" "$(vpn4 beta)" 200 20 || fail "pings alpha -> beta go by UDP"
wait_state capable 10 "restart"

note "---- 2: CE rewritten to ECT(0)"
path_rule "ip ecn ce ip ecn set ect0"
ip netns exec "$NS_A" ping -n -q -i 0.2 -c 40 -W 1 -Q 0x03 -s 100 "$(vpn4 beta)" >/dev/null 2>&1 &
ping_pid=$!
wait_state CE-erased 10 "CE erased"
wait "$ping_pid"
nft_reset data_ect_to_b
pings 0x03 10 >/dev/null
pings 0x02 10 >/dev/null
check_eq "CE erased: alpha sends no ECT or CE outer headers" "$(nft_counter data_ect_to_b)" 0
check_eq "CE erased: compatibility mode" "$(field beta ecn)" compat
check_eq "CE erased: still so before the re-validation" "$(field beta ecnpath)" CE-erased
path_rule none
wait_state capable 10 "CE path repaired"
check_eq "CE path repaired: normal mode again" "$(field beta ecn)" normal
nft_reset data_ect_to_b
pings 0x02 10 >/dev/null
check_cmp "CE path repaired: ECT(0) outer headers again" "$(nft_counter data_ect_to_b)" -ge 10
check_eq "CE erased: logged once" "$(log_count alpha 'Path to beta .* erases CE marks')" 1

note "---- 3: ECN bleached"
path_rule "ip ecn set not-ect"
wait_state bleached 10 "bleached"
check_eq "bleached: 30 ECT(0) pings, none lost" "$(pings 0x02 30)" 30
check_eq "bleached: compatibility mode" "$(field beta ecn)" compat
path_rule none
wait_state capable 10 "bleaching repaired"

note "---- 4: DSCP bleached"
path_rule "ip dscp set cs0"
if wait_for "[ \"\$(field beta dscp)\" = bleached ]" 10; then
	pass "DSCP bleached: reported after ${WAITED}s"
else
	fail "DSCP bleached: reported within 10 s (it says: $(field beta dscp))"
fi
check_eq "DSCP bleached: ECN still capable" "$(field beta ecnpath)" capable
path_rule none
if wait_for "[ \"\$(field beta dscp)\" = kept ]" 10; then
	pass "DSCP repaired: kept again after ${WAITED}s"
else
	fail "DSCP repaired: kept again within 10 s"
fi

note "---- 5: nothing new toward tinc 1.0.36; the cost of validation"
check_cmp "probes went to beta" "$(nft_counter small_to_b)" -gt 0
check_cmp "UDP went to gamma and delta" "$(nft_counter udp_to_old)" -gt 10
check_eq "no probe-sized ($PROBE_UDP_LEN) datagram went to gamma (tinc 1.0.36) or delta (tinc 1.1)" "$(nft_counter small_to_old)" 0
check_eq "gamma still not probed" "$(field gamma ecnpath)" unknown
check_eq "delta still not probed" "$(field delta ecnpath)" unknown
nft_reset small_to_b
sleep 12 # a measurement window: idle, three re-validations of 4 s
bytes=$(nft_counter small_to_b bytes)
packets=$(nft_counter small_to_b)
note "validation traffic alpha -> beta, idle, ECNValidationInterval 4: $packets datagrams, $bytes bytes (IP) in 12 s"
# alpha's requests and its replies to beta's requests (both validate every
# 4 s): per round 11 requests + 1 count request each way, at most 4 rounds
check_cmp "validation traffic: at most 4 rounds each way in 12 s" "${packets:-0}" -le 96
check_cmp "validation traffic: at least 2 rounds each way in 12 s" "${packets:-0}" -ge 44
if [ "${packets:-0}" -gt 0 ]; then
	per=$((bytes / packets))
	note "one probe is $per bytes; a round (11 requests, 1 count request, their replies) $((24 * per)) bytes: $((24 * per * 60 / 600)) bytes per minute per peer with the default ECNValidationInterval = 600"
fi

stop_all_nodes
finish

#!/bin/bash
# Issue 5, receive side: datagrams that waited in the UDP socket while the
# daemon could not run are CE-marked (IngressCEThreshold, kernel arrival
# timestamps) when their outer header says the inner packet is ECN-capable,
# and pass untouched when it is not; the per-node counters of the SIGUSR2
# dump say so.
#
# Topology: alpha --- router --- beta, both fqtinc. alpha pings beta every
# 2 ms through the tunnel while beta is stopped (SIGSTOP) for 100 ms three
# times: the echo requests meanwhile wait in beta's socket far longer than the
# 5 ms threshold. Cases:
#   ECT(0) pings, default threshold     -> beta marks (ingress CE > 0), no loss
#   Not-ECT pings, default threshold    -> no marks, no loss
#   ECT(0) pings, IngressCEThreshold=no -> no threshold marks (the test can fail)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"

require_tools ping
need_daemon "$FQTINC"
setup_test

topo_pair

# beta's per-node counters for alpha: "CE DROPS" of the receive side
ingress_of_alpha() {
	local log=${NODE_DIR[beta]}/log n0
	n0=$(log_count beta '^.* ingress codel:')
	kill -USR2 "${NODE_PID[beta]}"
	wait_for "[ \$(log_count beta ' alpha at .* ingress CE ') -gt 0 ] && [ \$(log_count beta '^.* ingress codel:') -gt $n0 ]" 5 >/dev/null
	grep -E ' alpha at .* ingress CE ' "$log" | tail -n1 | sed -E 's/.* ingress CE ([0-9]+) drops ([0-9]+).*/\1 \2/'
}

# run_case LABEL TOS: sets CE DROPS SENT RECV of the run
run_case() {
	local label=$1 tos=$2 ce0 drop0 ce1 drop1 out i
	read -r ce0 drop0 <<<"$(ingress_of_alpha)"
	ip netns exec "$NS_A" ping -n -q -Q "$tos" -i 0.002 -c 400 -W 2 "$(vpn4 beta)" >"$TMP/$label.ping" 2>&1 &
	local ppid=$!
	for i in 1 2 3; do
		sleep 0.15
		kill -STOP "${NODE_PID[beta]}"
		sleep 0.1
		kill -CONT "${NODE_PID[beta]}"
	done
	wait "$ppid"
	read -r ce1 drop1 <<<"$(ingress_of_alpha)"
	out=$(cat "$TMP/$label.ping")
	sent=$(echo "$out" | sed -nE 's/^([0-9]+) packets transmitted.*/\1/p')
	recv=$(echo "$out" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
	note "$label: beta marked $((ce1 - ce0)), dropped $((drop1 - drop0)); ping $recv of $sent answered"
	CE=$((ce1 - ce0)) DROPS=$((drop1 - drop0)) SENT=${sent:-0} RECV=${recv:-0}
}

make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
connect_to alpha beta
exchange_hosts alpha beta
start_node beta || finish
start_node alpha || finish
check_ping "IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
# ECT(0) pings keep an ECN-capable outer header only in normal mode, which
# alpha takes once its check of the path to beta found it carries ECN (a
# round of probes that beta's stops would otherwise delay)
check "alpha sends to beta in RFC 6040 normal mode" wait_for "normal_mode_now alpha beta" 10
run_case ect 0x02
check_cmp "ECT(0) datagrams that waited in the socket got CE marks" "$CE" -gt 0
check_eq "no ECT(0) datagram dropped" 0 "$DROPS"
check_eq "every ECT(0) ping answered" "$SENT" "$RECV"
run_case notect 0x00
check_eq "Not-ECT datagrams: no marks" 0 "$CE"
check_eq "Not-ECT datagrams: no drops" 0 "$DROPS"
check_eq "every Not-ECT ping answered" "$SENT" "$RECV"

stop_node beta
node_set beta IngressCEThreshold=no
wait_next_second beta
start_node beta || finish
check_ping "IPv4 ping A -> B after beta's restart" "$NS_A" "$(vpn4 beta)" 30
run_case ect-nothreshold 0x02
check_eq "IngressCEThreshold = no: no marks within CoDel's interval" 0 "$CE"
check_eq "IngressCEThreshold = no: every ping answered" "$SENT" "$RECV"
finish

#!/bin/bash
# Issue 5 acceptance: a sparse ping beside a bulk TCP flow through the tunnel
# keeps a low RTT when the bottleneck is a bloated remote gateway and fqtinc's
# Shaper is set just below its rate, so the queue forms in fqtinc's FQ-CoDel.
#
# Topology: alpha --- router --- beta. The router's egress toward beta is a
# 10 Mbit/s tbf with ~1 MB of queue (~800 ms when full). alpha runs
# `Shaper = 9M`. A bounded bulk TCP transfer runs alpha -> beta while alpha
# pings beta through the tunnel every 20 ms. The bound on the ping is generous
# (the benchmark measures the real numbers): p90 RTT below 60 ms, against the
# hundreds of ms a full gateway queue gives. The same run with the shaper off shows
# the bloat, so the test also proves the setup can fail. The SIGUSR2 dump's
# per-node line for beta must account for every drop and mark of the queue.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

require_tools tc ping
need_daemon "$FQTINC"
setup_test

topo_pair
# A loss-based congestion control fills a bloated queue (the host default may
# be BBR, which does not); reno is always built in.
for ns in "$NS_A" "$NS_B"; do
	nsx "$ns" sysctl -qw net.ipv4.tcp_congestion_control=reno >/dev/null || skip "cannot select reno in a namespace"
done
RIF=${NS_RIF[$NS_B]}
nsx "$NS_R" tc qdisc add dev "$RIF" root tbf rate 10mbit burst 16kb limit 1000000 || fail "tbf on the router"

# Poll alpha's SIGUSR2 dump until its PMTU toward beta is fixed (min = max):
# before that, frames above the confirmed minimum travel over the meta
# connection (TCP), which no shaper paces.
pmtu_fixed() {
	kill -USR2 "${NODE_PID[alpha]}"
	sleep 0.2
	grep ' beta at .* pmtu ' "${NODE_DIR[alpha]}/log" | tail -1 | grep -Eq 'pmtu ([0-9]+) \(min \1 max \1\)'
}

run_case() { # run_case LABEL SHAPER: writes "p50 p90 loss%" of the probe to $TMP/LABEL.rtt
	local label=$1 shaper=$2
	make_node "$NS_A" alpha fq ${shaper:+Shaper=$shaper} || finish
	make_node "$NS_B" beta fq || finish
	connect_to alpha beta
	exchange_hosts alpha beta
	start_node beta || finish
	start_node alpha || finish
	check_ping "$label: IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
	check "$label: PMTU toward beta fixed" wait_for pmtu_fixed 40

	# bulk flow: 14 MB (about 12 s at 10 Mbit/s), bounded by XFER_TIMEOUT
	XFER_TIMEOUT=40 transfer_start bulk "$NS_A" "$NS_B" "$(vpn4 beta)" 5201 $((14 * MB))
	sleep 2 # let the bulk flow fill whatever queue there is
	local out
	out=$(ip netns exec "$NS_A" ping -n -i 0.02 -c 200 -W 2 "$(vpn4 beta)" 2>&1)
	kill -USR2 "${NODE_PID[alpha]}"
	wait_for "grep -q 'egress fq_codel' ${NODE_DIR[alpha]}/log" 5
	grep -h 'egress fq_codel\|shaper:' "${NODE_DIR[alpha]}/log" | tail -2 | sed "s/^/# $label: /"
	# the whole queue's drops and marks, and beta's share (all of them: the only peer)
	wait_for "grep -q ' beta at .* queue backlog' ${NODE_DIR[alpha]}/log" 5
	{
		grep -h 'egress fq_codel:' "${NODE_DIR[alpha]}/log" | tail -n1 |
			sed -E 's/.*dropped codel ([0-9]+) overlimit ([0-9]+) memory ([0-9]+), CE marked ([0-9]+).*/\1 \2 \3 \4/'
		grep -h ' beta at .* queue backlog' "${NODE_DIR[alpha]}/log" | tail -n1 |
			sed -E 's/.* drops codel ([0-9]+) limit ([0-9]+) CE ([0-9]+).*/\1 \2 \3/'
	} | tr '\n' ' ' >"$TMP/$label.queue"
	transfer_wait bulk || note "$label: bulk transfer incomplete"
	nsx "$NS_R" tc -s qdisc show dev "$RIF" | awk -v l="$label" '/backlog/ { print "# " l ": router " $0 }'
	stop_node alpha
	stop_node beta
	echo "$out" | "$PYTHON" -c '
import re, sys
rtts = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", sys.stdin.read()))
if not rtts:
    print("9999 9999 100"); sys.exit()
p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))]
print("%.1f %.1f %.1f" % (p(0.5), p(0.9), 100.0 * (200 - len(rtts)) / 200))' >"$TMP/$label.rtt"
}

run_case shaped 9M
read -r s50 s90 sloss <"$TMP/shaped.rtt"
note "shaped:   ping RTT p50 $s50 ms, p90 $s90 ms, loss $sloss %"
run_case unshaped ""
read -r u50 u90 uloss <"$TMP/unshaped.rtt"
note "unshaped: ping RTT p50 $u50 ms, p90 $u90 ms, loss $uloss %"

read -r qc qo qm qce nc nl nce <"$TMP/shaped.queue"
note "shaped: alpha's queue: codel drops $qc, limit drops $((qo + qm)), CE $qce; beta's line: codel $nc, limit $nl, CE $nce"
check_cmp "with Shaper alpha's queue signalled congestion (codel drops + CE)" $((qc + qce)) -gt 0
check_eq "beta's node line accounts for every signal of the queue (its only peer)" "$qc $((qo + qm)) $qce" "$nc $nl $nce"
check "with Shaper the sparse ping's p90 RTT stays below 60 ms ($s90 ms)" awk -v v="$s90" 'BEGIN { exit !(v < 60) }'
check "with Shaper the ping loses at most 5 % ($sloss %)" awk -v v="$sloss" 'BEGIN { exit !(v <= 5) }'
check "without Shaper the gateway queue shows (p90 $u90 ms > 150 ms)" awk -v v="$u90" 'BEGIN { exit !(v > 150) }'
finish

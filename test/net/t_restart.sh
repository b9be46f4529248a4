#!/bin/bash
# The tinc peer (B) crashes (SIGKILL) and is restarted mid-test: the tunnel
# must come back by itself, within RESTART_BOUND seconds (default 30).
#
#   A_DAEMON (default fq), B_DAEMON (default tinc): fq | tinc | path
#
# Phase 1: A has ConnectTo B.  B is killed and restarted twice; A must notice
#          the dead connection and reconnect (its retry back-off grows: 5 s,
#          then 10 s).
# Phase 2: B has ConnectTo A.  B is killed and restarted; A must accept the
#          new connection and use B's new packet key.
# Phase 3: as phase 2, but the router drops B's packets while B dies, so A
#          never sees the connection close: the restarted B's new connection
#          must replace the stale one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc}")
RESTART_BOUND=${RESTART_BOUND:-30}

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON") (killed and restarted)"
topo_pair
make_node "$NS_A" alpha "$A_DAEMON" || finish
make_node "$NS_B" beta "$B_DAEMON" || finish
exchange_hosts alpha beta

both_ways() {
	local label=$1
	check_ping "$label: IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 10
	check_ping "$label: IPv6 ping A -> B" "$NS_A" "$(vpn6 beta)" 10
	check_ping "$label: IPv4 ping B -> A" "$NS_B" "$(vpn4 alpha)" 10
}

# crash_and_restart LABEL: SIGKILL B, start it again, time until A reaches it
crash_and_restart() {
	local label=$1 t0
	kill_node beta
	t0=$(now_ms)
	wait_next_second beta
	start_node beta || return 1
	if wait_for "ping_ok $NS_A $(vpn4 beta)" "$RESTART_BOUND"; then
		pass "$label: pings resume $(ms_to_s $(($(now_ms) - t0)))s after the restart"
	else
		fail "$label: pings did not resume within ${RESTART_BOUND}s of the restart"
	fi
	both_ways "$label"
	check "$label: A still running" node_alive alpha
}

# ---- phase 1: A initiates
connect_to alpha beta
start_node beta || finish
start_node alpha || finish
both_ways "phase 1 start"
crash_and_restart "phase 1, crash 1"
crash_and_restart "phase 1, crash 2"
stop_all_nodes

# ---- phase 2: B initiates
node_unset alpha ConnectTo
connect_to beta alpha
start_node alpha || finish
start_node beta || finish
both_ways "phase 2 start"
crash_and_restart "phase 2, crash"

# ---- phase 3: B initiates, and A never hears of the crash
nsx "$NS_R" nft -f - <<EOF
table inet blackhole {
	chain drop_b {
		type filter hook forward priority -10; policy accept;
		ip saddr $(outer4 beta) counter drop
		ip6 saddr $(outer6 beta) counter drop
	}
}
EOF
kill_node beta
wait_next_second beta
nsx "$NS_R" nft delete table inet blackhole
note "phase 3: B killed while its packets were dropped; A still lists $(nsx "$NS_A" ss -Htn state established "( sport = :${NODE_PORT[alpha]} or dport = :${NODE_PORT[beta]} )" | wc -l) meta connection(s)"
t0=$(now_ms)
start_node beta || finish
if wait_for "ping_ok $NS_A $(vpn4 beta)" "$RESTART_BOUND"; then
	pass "phase 3: pings resume $(ms_to_s $(($(now_ms) - t0)))s after the restart"
else
	fail "phase 3: pings did not resume within ${RESTART_BOUND}s of the restart"
fi
both_ways "phase 3"
check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

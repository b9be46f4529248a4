#!/bin/bash
# Bad input must cost only the offending connection, never the daemon.
#
#   A_DAEMON (honest peer, default tinc), B_DAEMON (target, default fq)
#
# 1. A config syntax error makes the target exit non-zero, naming the file and
#    the line.
# 2. With A and B connected and A pinging B all along, an attacker in the
#    router namespace opens meta connections to B and sends garbage, a
#    5000-byte line, or a request out of order (METAKEY before ID), each time
#    followed by a valid ID line.  B must drop that connection: it may close
#    it ("closed") or, as tinc does, keep it open but never read it again
#    ("silent", the tarpit); it must not answer the ID.  A control connection
#    sending only the ID gets an answer, which shows the probe works.
# 3. Random UDP datagrams to B's port are ignored.
# Throughout, the honest connection stays up (same TCP connection) and the
# pings keep getting answers.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-tinc}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-fq}")

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "honest A = $(daemon_label "$A_DAEMON"), target B = $(daemon_label "$B_DAEMON")"
topo_pair

# ---- 1. configuration syntax error
bad=$TMP/badconf
mkdir -p "$bad/hosts"
printf 'Name = broken\nMode = router\nDeviceType = dummy\nPort\nAddressFamily = ipv4\n' >"$bad/tinc.conf"
timeout 10 ip netns exec "$NS_B" "$B_DAEMON" -c "$bad" -D --pidfile="$bad/pid" </dev/null >"$bad/out" 2>&1
rc=$?
note "daemon with a broken tinc.conf exited with status $rc: $(head -c 300 "$bad/out" | tr '\n' ' ')"
check "config error: daemon exits by itself" [ "$rc" != 124 ]
check "config error: exit status is non-zero" [ "$rc" != 0 ]
check "config error: message names the file" grep -q 'tinc\.conf' "$bad/out"
check "config error: message names line 4" grep -q -E '(line|:) ?4([^0-9]|$)' "$bad/out"

# ---- 2. the honest pair
make_node "$NS_A" alpha "$A_DAEMON" || finish
make_node "$NS_B" beta "$B_DAEMON" || finish
connect_to alpha beta
exchange_hosts alpha beta
start_node beta || finish
start_node alpha || finish
check_ping "IPv4 ping A -> B before the attacks" "$NS_A" "$(vpn4 beta)" 20

meta_conn() {
	nsx "$NS_A" ss -Htn state established "( dport = :${NODE_PORT[beta]} )" | awk '{print $3, $4}'
}
conn_before=$(meta_conn)
note "honest meta connection: $conn_before"

# A pings B five times a second during all attacks; -O reports each loss
ip netns exec "$NS_A" ping -n -O -i 0.2 -W 1 -w 120 "$(vpn4 beta)" >"$TMP/ping.log" 2>&1 &
PINGER=$!
BG_PIDS+=("$PINGER")
t0=$(now_ms)

ob=$(outer4 beta)
pb=${NODE_PORT[beta]}

# probe KIND: run one attack connection from the router namespace
probe() {
	nsx "$NS_R" timeout 15 "$PYTHON" "$NETHELP" probe "$ob" "$pb" "$1" --name alpha --wait 2 2>&1 | tail -n1
}

r=$(probe none)
note "control (valid ID only): $r"
case "$r" in
"answered 0 beta"*) pass "control: a valid ID gets B's ID in reply" ;;
*) fail "control: a valid ID gets B's ID in reply (got: $r)" ;;
esac

for kind in garbage longline outoforder; do
	r=$(probe $kind)
	note "$kind: $r"
	case "$r" in
	closed | silent) pass "$kind: connection dropped ($r)" ;;
	*) fail "$kind: connection dropped (got: $r)" ;;
	esac
	check "$kind: B still running" node_alive beta
	check "$kind: ping A -> B still answered" wait_for "ping_ok $NS_A $(vpn4 beta)" 3
done

# ---- 3. random UDP datagrams
sent=$(nsx "$NS_R" timeout 20 "$PYTHON" "$NETHELP" udpjunk "$ob" "$pb" 2000)
note "sent ${sent:-0} random UDP datagrams to B's port"
check "UDP junk: B still running" node_alive beta
check "UDP junk: ping A -> B still answered" wait_for "ping_ok $NS_A $(vpn4 beta)" 3
check "UDP junk: IPv6 ping A -> B answered" wait_for "ping_ok $NS_A $(vpn6 beta)" 3

# ---- the honest side all along
kill -TERM "$PINGER" 2>/dev/null
wait "$PINGER" 2>/dev/null
got=$(grep -c 'bytes from' "$TMP/ping.log")
lost=$(grep -c 'no answer yet' "$TMP/ping.log")
note "during $(ms_to_s $(($(now_ms) - t0)))s of attacks: $got pings answered, $lost lost"
check_cmp "pings kept working (at least 90% answered)" $((got * 10)) -ge $((9 * (got + lost)))
check_cmp "pings were sent throughout" "$got" -ge 10
check_eq "the honest meta connection was not replaced" "$conn_before" "$(meta_conn)"
check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

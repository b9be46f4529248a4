#!/bin/bash
# Memory errors and leaks (issue 6): fqtinc runs under valgrind (or, for an
# ASan build, with LeakSanitizer) through a whole life cycle: start,
# authentication, pings, a transfer, SIGHUPs that add and remove outgoing
# connections, USR1/USR2 dumps, the peer killed and restarted (connection
# teardown and a second authentication), SIGTERM. The checker must report no
# errors and no definitely lost bytes. Skipped (77) without valgrind on a
# normal build.
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
# An ASan build (configure --enable-sanitize) cannot run under valgrind;
# its own LeakSanitizer checks the same cycle instead.
case "$(ldd "$FQTINC" 2>/dev/null)" in
*libasan*)
	checker=lsan ;;
*)
	checker=valgrind
	command -v valgrind >/dev/null 2>&1 || skip "valgrind not installed" ;;
esac
setup_test
topo_pair
make_node "$NS_A" alpha fq PingInterval=2 || finish
make_node "$NS_B" beta fq || finish
connect_to beta alpha
exchange_hosts alpha beta

# alpha runs under the checker, through a wrapper in its place; exit status
# 42 means errors or definite leaks, reported in $TMP/checker.log*.
vglog=$TMP/checker.log
if [ "$checker" = valgrind ]; then
	cat >"$TMP/vg-tincd" <<-EOF
		#!/bin/sh
		exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
			--error-exitcode=42 --log-file="$vglog" "$FQTINC" "\$@"
	EOF
else
	cat >"$TMP/vg-tincd" <<-EOF
		#!/bin/sh
		exec env ASAN_OPTIONS=detect_leaks=1:exitcode=42:log_path=$vglog LSAN_OPTIONS=exitcode=42 "$FQTINC" "\$@"
	EOF
fi
chmod 755 "$TMP/vg-tincd"
note "checking with $checker"
NODE_DAEMON[alpha]=$TMP/vg-tincd

start_node alpha || finish
start_node beta || finish
check_ping "ping through alpha under $checker" "$NS_B" "$(vpn4 alpha)" 30
check_ping "IPv6 ping" "$NS_B" "$(vpn6 alpha)" 10
XFER_TIMEOUT=60
check "1 MB transfer B -> A intact" transfer leak "$NS_B" "$NS_A" "$(vpn4 alpha)" $MB

pid=${NODE_PID[alpha]}
# Reloads that add and remove outgoing connections: one to beta (a second
# connection that replaces the first) and one to a node without a host file.
node_opt alpha ConnectTo=beta
node_opt alpha ConnectTo=nobody
kill -HUP "$pid"
kill -USR1 "$pid"
kill -USR2 "$pid"
check "alpha answered USR2 with a dump" wait_for "[ \$(log_count alpha 'End of subnets') -ge 1 ]" 10
check_ping "ping after the reload" "$NS_B" "$(vpn4 alpha)" 10
node_unset alpha ConnectTo
kill -HUP "$pid"
check "alpha re-read its configuration twice" wait_for "[ \$(log_count alpha 'Signal HUP') -ge 2 ]" 10
check_ping "ping after the second reload" "$NS_B" "$(vpn4 alpha)" 10

kill_node beta
check "alpha noticed beta's death" wait_for "[ \$(log_count alpha 'Closing the connection with beta') -ge 1 ]" 15
start_node beta || finish
check_ping "ping after beta restarted" "$NS_B" "$(vpn4 alpha)" 30

# SIGTERM and wait for the leak check (slow: not stop_node's 5 s).
kill -TERM "$pid"
if wait_for "! node_alive alpha" 60; then
	wait "$pid"
	status=$?
	NODE_PID[alpha]=
	check_eq "$checker exit status (42 = errors or definite leaks)" 0 "$status"
else
	fail "alpha under $checker did not exit within 60 s of SIGTERM"
fi
cat "$vglog"* 2>/dev/null | sed "s/^/#   $checker: /" | head -60
check_eq "$checker reported nothing (no errors, no definitely lost blocks)" 0 \
	"$(cat "$vglog"* 2>/dev/null | grep -c -E 'definitely lost|Invalid|uninitialised|ERROR SUMMARY: [1-9]|ERROR: (Leak|Address)Sanitizer|runtime error')"
finish

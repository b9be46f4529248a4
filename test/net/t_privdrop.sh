#!/bin/bash
# Privileges and process control of fqtinc.
#
# alpha (fqtinc) runs with `-U nobody -R`: after setup it is user nobody,
# chrooted into its configuration directory.  The VPN keeps working after
# the switch: pings to beta (tinc 1.0.36); packet keys renewed (KeyExpire 4);
# beta restarted, so alpha must re-read hosts/beta inside the chroot; a HUP
# that adds `ConnectTo = gamma` (tinc.conf and hosts/gamma read in the
# chroot).  Scripts other than tinc-up/tinc-down cannot run in a chroot
# without /bin/sh: a known limitation, not tested.
#
# gamma runs with -L (mlockall).  Then: --pidfile is a lock (a second daemon on the same pid file refuses to
# start and the first keeps running), `-kUSR2` makes the daemon dump, and
# `-k` (TERM) stops it.  Finally alpha runs detached (no -D) with --logfile:
# the command returns at once, the daemon leads its own session, SIGINT
# toggles debug level 5, SIGWINCH purges, -kTERM stops it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
getent passwd nobody >/dev/null || skip "no user nobody"
setup_test

# An ASan build (configure --enable-sanitize) cannot lock its shadow memory
# (ASan turns mlockall into a no-op), and LeakSanitizer cannot inspect a
# process that changed its user and root; both are properties of the
# sanitizer, not of the daemon.
SANITIZED=
if ldd "$FQTINC" 2>/dev/null | grep -q libasan; then
	SANITIZED=1
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

topo_chain3
make_node "$NS_A" alpha fq KeyExpire=4 PingInterval=10 || finish
make_node "$NS_B" beta tinc || finish
make_node "$NS_C" gamma fq || finish
connect_to alpha beta
exchange_hosts alpha beta gamma
# nobody must be able to read what alpha reads after the switch
chmod 755 "${NODE_DIR[alpha]}" "${NODE_DIR[alpha]}/hosts"

start_node beta && start_node gamma -L || finish
vmlck=$(awk '/^VmLck:/ { print $2 }' "/proc/${NODE_PID[gamma]}/status")
if [ -n "$SANITIZED" ]; then
	note "sanitized build: mlockall is a no-op under ASan, VmLck not checked ($vmlck kB)"
else
	check_cmp "gamma started with -L has its memory locked (VmLck kB)" "${vmlck:-0}" -gt 1000
fi
start_node alpha -U nobody -R || finish
pid=${NODE_PID[alpha]}
check_ping "ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
uid=$(awk '/^Uid:/ { print $2 "/" $3 }' "/proc/$pid/status")
check_eq "alpha runs as nobody (real/effective uid)" "65534/65534" "$uid"
gid=$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")
check_eq "alpha's group is nobody's" "$(id -g nobody)" "$gid"
check_eq "alpha's root is its configuration directory" "${NODE_DIR[alpha]}" "$(readlink "/proc/$pid/root")"

# key renewal after the switch: KeyExpire = 4
keys0=$(log_count beta 'Got ANS_KEY from alpha|Got KEY_CHANGED from alpha')
sleep 5
check_ping "ping alpha -> beta after a key renewal" "$NS_A" "$(vpn4 beta)" 10
check_cmp "beta saw alpha renew its key after the switch" "$(log_count beta 'Got ANS_KEY from alpha|Got KEY_CHANGED from alpha')" -gt "$keys0"

# beta restarts: alpha reconnects, reading hosts/beta inside the chroot
stop_node beta
start_node beta || finish
kill -ALRM "$pid"
check_ping "beta restarted: alpha -> beta again" "$NS_A" "$(vpn4 beta)" 20

# HUP inside the chroot: a new ConnectTo
connect_to alpha gamma
"$FQTINC" -c "${NODE_DIR[alpha]}" --pidfile="${NODE_DIR[alpha]}/pid" -kHUP
check_ping "HUP in the chroot added ConnectTo gamma: alpha -> gamma" "$NS_A" "$(vpn4 gamma)" 15
check "alpha still runs as nobody" grep -q '^Uid:[[:space:]]*65534' "/proc/$pid/status"

# ---- the pid file is a lock
second=$(timeout 10 ip netns exec "$NS_A" "$FQTINC" -c "${NODE_DIR[alpha]}" -D --pidfile="${NODE_DIR[alpha]}/pid" -o Port=6699 -o Interface=vpnx 2>&1)
rc=$?
check_cmp "a second daemon on the same pid file refuses to start" "$rc" -ne 0
check "... and says why" grep -q -i 'already running' <<<"$second"
check "the first daemon keeps running" node_alive alpha
check_eq "the pid file still holds the first daemon's pid" "$pid" "$(awk '{print $1}' "${NODE_DIR[alpha]}/pid")"

# ---- -kUSR2 and -k
before=$(log_count alpha 'End of subnets')
"$FQTINC" -c "${NODE_DIR[alpha]}" --pidfile="${NODE_DIR[alpha]}/pid" -kUSR2
check "-kUSR2: alpha dumped its tables" wait_for "[ \$(log_count alpha 'End of subnets') -gt $before ]" 5
check_ping "alpha -> beta after the dump" "$NS_A" "$(vpn4 beta)" 5
"$FQTINC" -c "${NODE_DIR[alpha]}" --pidfile="${NODE_DIR[alpha]}/pid" -k
rc=$?
check_eq "-k exits 0" 0 "$rc"
if wait_for "! node_alive alpha" 5; then
	wait "$pid"
	check_eq "-k (TERM) stopped alpha, exit status" 0 "$?"
	NODE_PID[alpha]=
else
	fail "-k did not stop alpha within 5 s"
fi
check "alpha logged its shutdown" \
	grep -q 'Daemon stopped' "${NODE_DIR[alpha]}/log"
check "-k on a stopped daemon fails" eval '! "$FQTINC" -c "${NODE_DIR[alpha]}" --pidfile="${NODE_DIR[alpha]}/pid" -k 2>/dev/null'

# ---- detached (no -D), --logfile, SIGINT and SIGWINCH
dlog=$TMP/alpha-detached.log
dpid=$TMP/alpha-detached.pid
ip netns exec "$NS_A" "$FQTINC" -c "${NODE_DIR[alpha]}" -d3 --pidfile="$dpid" --logfile="$dlog" </dev/null >"$TMP/detach.out" 2>&1
check_eq "without -D the command returns at once, status 0" 0 "$?"
if wait_for "[ -s $dpid ] && grep -q Ready $dlog" 10; then
	read -r pid _ <"$dpid" # the pid is the first field
	pass "the detached daemon (pid $pid) wrote its pid file and logs to --logfile"
	check_eq "it is a session leader (detached from the terminal)" "$pid" "$(ps -o sid= -p "$pid" | tr -d ' ')"
	check_ping "detached alpha -> beta" "$NS_A" "$(vpn4 beta)" 15
	kill -INT "$pid"
	check "SIGINT: debug level 5 for now" wait_for "grep -q 'Signal INT: debug level 5 until the next INT' $dlog" 5
	kill -INT "$pid"
	check "SIGINT again: back to level 3" wait_for "grep -q 'Signal INT: debug level back to 3' $dlog" 5
	kill -WINCH "$pid"
	check "SIGWINCH: purge" wait_for "grep -q 'Forgetting the unreachable nodes' $dlog" 5
	check "the daemon survived INT, INT, WINCH" kill -0 "$pid"
	"$FQTINC" -c "${NODE_DIR[alpha]}" --pidfile="$dpid" -kTERM
	check "-kTERM stops the detached daemon" wait_for "! kill -0 $pid 2>/dev/null" 5
	check "and its pid file is removed" wait_for "[ ! -e $dpid ]" 2
else
	fail "the detached daemon did not come up: $(cat "$TMP/detach.out") $(tail -n 5 "$dlog" 2>/dev/null)"
fi
finish

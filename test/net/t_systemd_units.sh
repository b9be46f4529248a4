#!/bin/bash
# systemd/tinc.service and systemd/tinc@.service.in.
#
# 1. `systemd-analyze verify` on both units (tinc@.service as instance
#    tinc@NET.service), with only our unit directory on the unit path; any
#    message about our units counts as a failure (verify exits 0 on unknown
#    keys and unparsable values, it only prints them).
# 2. The unit's own commands, run the way systemd would run them for
#    instance NET (no systemd as PID 1 here): ExecStart with %i expanded and
#    $EXTRA from an environment file, then ExecReload with $MAINPID, then the
#    TERM of a stop.  The daemon runs on a dummy device from a temporary
#    directory (EXTRA="-c DIR --pidfile=FILE"), so this needs no root.
#
# Not covered: dependency ordering, PartOf/ReloadPropagatedFrom propagation
# and Restart= handling, which need a running systemd.
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
UNITS="$top_srcdir/systemd"
[ -f "$UNITS/tinc.service" ] && [ -f "$UNITS/tinc@.service.in" ] || skip "unit files missing"

TMP=$(mktemp -d "/tmp/fqt.${TEST_NAME}.XXXXXX") || exit 99
DPID=
cleanup_units() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup_units EXIT

# The unit as `make' generates it, with sbindir pointing at our build.
UDIR="$TMP/units"
mkdir -p "$UDIR" "$TMP/sbin"
ln -s "$FQTINC" "$TMP/sbin/tincd"
cp "$UNITS/tinc.service" "$UDIR/"
sed -e "s|@sbindir[@]|$TMP/sbin|g" "$UNITS/tinc@.service.in" >"$UDIR/tinc@.service"
check "no unsubstituted @...@ left" bash -c "! grep -q '@[a-z]*@' '$UDIR/tinc@.service'"

# ---------------------------------------------------------------- verify

if command -v systemd-analyze >/dev/null 2>&1; then
	(cd "$UDIR" && SYSTEMD_UNIT_PATH="$UDIR:" systemd-analyze verify \
		tinc.service tinc@fqtnet.service) >"$TMP/verify.out" 2>&1
	rc=$?
	sed 's/^/# verify: /' "$TMP/verify.out"
	check_eq "systemd-analyze verify exit status" 0 "$rc"
	check_eq "verify messages about our units" 0 "$(grep -c 'tinc' "$TMP/verify.out")"
	# A unit with a typo must be caught the same way (the check can fail).
	sed 's/^KillMode=mixed/KillMode=mixd/' "$UDIR/tinc@.service" >"$TMP/tinc@.service.bad"
	mkdir -p "$TMP/bad" && cp "$UDIR/tinc.service" "$TMP/bad/" && cp "$TMP/tinc@.service.bad" "$TMP/bad/tinc@.service"
	(cd "$TMP/bad" && SYSTEMD_UNIT_PATH="$TMP/bad:" systemd-analyze verify tinc@fqtnet.service) >"$TMP/verify-bad.out" 2>&1
	check "verify reports a broken copy" grep -q 'tinc@' "$TMP/verify-bad.out"
else
	note "systemd-analyze not installed: verify skipped"
fi

# ---------------------------------------------------------------- the commands

# unit_value FILE KEY: the value of KEY= (last one wins, as in systemd)
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

svc="$UDIR/tinc@.service"
check_eq "instance belongs to tinc.service" "tinc.service" "$(unit_value "$svc" PartOf)"
check_eq "reloads propagate from tinc.service" "tinc.service" "$(unit_value "$svc" ReloadPropagatedFrom)"
check_eq "enabled instances hang off tinc.service" "tinc.service" "$(unit_value "$svc" WantedBy)"
check_eq "umbrella enabled by multi-user.target" "multi-user.target" "$(unit_value "$UDIR/tinc.service" WantedBy)"
check_eq "environment file (optional, Debian's)" "-/etc/default/tinc" "$(unit_value "$svc" EnvironmentFile)"

NET=fqtnet
CONF="$TMP/conf"
mkdir -p "$CONF/hosts"
printf '%s\n' "Name = sdtest" "DeviceType = dummy" "Port = 0" >"$CONF/tinc.conf"
"$FQTINC" -c "$CONF" -K1024 </dev/null >/dev/null 2>&1
check "key generated for the test network" test -s "$CONF/rsa_key.priv"

# What /etc/default/tinc would hold, then ExecStart expanded as systemd does
# (%i = instance, $EXTRA split into words).
EXTRA="-c $CONF --pidfile=$TMP/tinc.pid -d1"
start_line=$(unit_value "$svc" ExecStart)
start_line=${start_line//%i/$NET}
start_line=${start_line//\$EXTRA/$EXTRA}
check_eq "ExecStart for instance $NET" "$TMP/sbin/tincd -n $NET -D $EXTRA" "$start_line"
read -r -a argv <<<"$start_line"
# Its listening sockets go into a private network namespace when we can.
wrap=()
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then wrap=(unshare -n); fi
"${wrap[@]}" "${argv[@]}" >"$TMP/daemon.log" 2>&1 &
DPID=$!
MAINPID=$DPID
if wait_for "grep -q Ready '$TMP/daemon.log'" 20; then
	pass "ExecStart: tincd ready in the foreground (${WAITED}s)"
else
	fail "ExecStart: tincd not ready"
	sed 's/^/# daemon: /' "$TMP/daemon.log" | tail -20
fi
check "foreground: the started process is the daemon" kill -0 "$MAINPID"
check "log on stderr (for the journal)" grep -q 'starting' "$TMP/daemon.log"

reload_line=$(unit_value "$svc" ExecReload)
check_eq "ExecReload" '/bin/kill -HUP $MAINPID' "$reload_line"
reload_line=${reload_line//\$MAINPID/$MAINPID}
read -r -a argv <<<"$reload_line"
"${argv[@]}"
check_eq "ExecReload exit status" 0 "$?"
if wait_for "grep -q 'Signal HUP' '$TMP/daemon.log'" 10; then pass "reload reached the daemon"; else fail "no HUP in the daemon log"; fi
check "daemon still running after reload" kill -0 "$MAINPID"

# stop: KillMode=mixed sends TERM to the main process first
check_eq "KillMode" mixed "$(unit_value "$svc" KillMode)"
kill -TERM "$MAINPID"
wait "$DPID"
check_eq "exit status after TERM (0: Restart=on-failure leaves it stopped)" 0 "$?"
DPID=
check "pid file gone or no longer locked" bash -c "[ ! -e '$TMP/tinc.pid' ] || flock -n -x '$TMP/tinc.pid' true"
check "daemon logged its shutdown" grep -q 'Daemon stopped' "$TMP/daemon.log"

finish

#!/bin/bash
# The OpenWrt init script (openwrt/files/tinc.init) against a sample
# /etc/config/tinc, in a temporary root (IPKG_INSTROOT) with OpenWrt's shell
# libraries replaced by the stand-ins in test/net/openwrt-stubs/.
#
# Checks: the generated tinc.conf and host files (exact contents), which nets
# and hosts are skipped, key generation with our tincd, the tincd command
# lines registered with (stubbed) procd, per-net start/stop, and that tincd
# really starts from the generated directory, takes the reload signal and
# stops cleanly.
#
# Limits (what this does NOT prove):
#   * uci: the stub reads /etc/config/tinc by running it as shell; the real
#     uci parser, `uci set/commit' and anonymous-section naming are not used.
#   * procd: nothing supervises anything; the test only reads what the script
#     registered.  Respawn, the md5 check of `file' params and the delivery of
#     reload_signal are procd's, emulated here by sending HUP ourselves.
#   * the shell is busybox ash if installed (OpenWrt's /bin/sh), else /bin/sh
#     (OWRT_SH overrides);
#     the libraries around it are ours, not OpenWrt's.
#   * network.sh knows two fixed networks (lan, wan); no ubus, no netifd.
#   * the daemon is this machine's build, not a cross-compiled one; the SDK
#     package Makefile (openwrt/Makefile) is not built here.
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
STUBS="$NET_DIR/openwrt-stubs"
INIT="$top_srcdir/openwrt/files/tinc.init"
[ -f "$INIT" ] || skip "missing $INIT"
if [ -n "${OWRT_SH:-}" ]; then
	SH=$OWRT_SH
elif command -v busybox >/dev/null 2>&1 && busybox sh -c 'true' 2>/dev/null; then
	SH="busybox sh"
else
	SH=/bin/sh
fi

TMP=$(mktemp -d "/tmp/fqt.${TEST_NAME}.XXXXXX") || exit 99
DPID=
cleanup_owrt() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup_owrt EXIT
note "test $TEST_NAME, shell: $SH, root: $TMP/root"

R="$TMP/root"
mkdir -p "$R/lib/functions" "$R/etc/init.d" "$R/etc/config" "$R/usr/sbin" "$R/var/run" "$R/tmp/log"
cp "$STUBS/functions.sh" "$R/lib/functions.sh"
cp "$STUBS/procd.sh" "$STUBS/network.sh" "$R/lib/functions/"
cp "$STUBS/rc.common" "$R/etc/rc.common"
cp "$INIT" "$R/etc/init.d/tinc"
ln -s "$FQTINC" "$R/usr/sbin/tincd"
export IPKG_INSTROOT="$R" PROCD_LOG="$TMP/procd.log"

# /etc/tinc as a user would have it: beta's and epsilon's host files, a
# tinc-up script; office has its own tinc.conf.
mkdir -p "$R/etc/tinc/vpn/hosts" "$R/etc/tinc/office/hosts"
printf '%s\n' '-----BEGIN RSA PUBLIC KEY-----' 'MIIBCgKCAQEAbeta' '-----END RSA PUBLIC KEY-----' >"$R/etc/tinc/vpn/hosts/beta"
printf '%s\n' 'Subnet = 10.99.0.5/32' >"$R/etc/tinc/vpn/hosts/epsilon"
printf '%s\n' '#!/bin/sh' 'exit 0' >"$R/etc/tinc/vpn/tinc-up"
chmod 755 "$R/etc/tinc/vpn/tinc-up"
printf '%s\n' 'Name = omega' 'Mode = switch' >"$R/etc/tinc/office/tinc.conf"
printf '%s\n' 'Subnet = 02:00:00:00:00:01' >"$R/etc/tinc/office/hosts/omega"

cat >"$R/etc/config/tinc" <<EOF
config tinc-net 'vpn'
	option enabled '1'
	option generate_keys '1'
	option key_size '1024'
	option logfile '$R/tmp/log/tinc.vpn.log'
	option debug '2'
	option Name 'alpha'
	list ConnectTo 'beta'
	option DeviceType 'dummy'
	option Port '0'
	option PriorityInheritance 'yes'
	option ECN '0'
	option ReplayWindow '2048'
	option Shaper '19M'
	option ShaperOverhead '52'
	option FQCoDelTarget '5'
	option FQCoDelECN 'on'
	option ExperimentalProtocol '1'
	list Subnet '10.99.0.1/32'
	list Subnet 'fd99::1/128'

config tinc-host 'beta'
	option enabled '1'
	option net 'vpn'
	list Address '127.0.0.1 1'
	list Address 'beta.example.org'
	list Subnet '10.99.0.2/32'
	option Compression '10'
	option TCPOnly '0'
	option Cipher 'aes-128-cbc'

config tinc-host 'gamma'
	option enabled '1'
	option net 'vpn'
	option Address 'gamma.example.org 655'
	option PublicKey 'ABCDEF0123'

config tinc-host 'delta'
	option enabled '1'
	option net 'vpn'
	list Subnet '10.99.0.4/32'

config tinc-host 'epsilon'
	option enabled '0'
	option net 'vpn'

config tinc-host 'node_z'
	option enabled '1'
	option net 'vpn'
	option Name 'zeta'
	option PublicKeyFile '/etc/tinc/vpn/zeta.pub'
	option IndirectData 'true'

config tinc-net 'office'
	option enabled '1'
	option AddressFamily 'ipv4'
	list BindToAddress '192.0.2.1 655'
	list BindToAddress '* 656'
	option BindToInterface 'lan'
	option Broadcast 'direct'
	option Hostnames 'bogus'

config tinc-net 'off'
	option enabled '0'
	option Name 'nobody'

config tinc-host 'zed'
	option enabled '1'
	option net 'off'
	option PublicKey '00'

config tinc-net 'empty'
	option enabled '1'
EOF

rc() {
	$SH "$R/etc/rc.common" "$R/etc/init.d/tinc" "$@"
}

# instance_cmd NAME [LOG]: the command line registered for instance NAME in
# the last service registration of LOG, arguments joined by spaces.
instance_cmd() {
	awk -v want="instance $1" '
		/^service / { cmd = ""; inside = 0 }
		$0 == want { inside = 1; next }
		/^instance / { inside = 0 }
		inside && /^(set|append) command\|/ { sub(/^(set|append) command\|/, ""); cmd = cmd (cmd == "" ? "" : "|") $0 }
		END { gsub(/\|/, " ", cmd); print cmd }' "${2:-$PROCD_LOG}"
}

# instance_param NAME PARAM: the "set PARAM|..." line of instance NAME
instance_param() {
	awk -v want="instance $1" -v p="set $2|" '
		/^service / { line = ""; inside = 0 }
		$0 == want { inside = 1; next }
		/^instance / { inside = 0 }
		inside && index($0, p) == 1 { line = substr($0, length(p) + 1) }
		END { print line }' "$PROCD_LOG"
}

# ---------------------------------------------------------------- start

: >"$PROCD_LOG"
rc start >"$TMP/start.out" 2>&1
check_eq "init script start exit status" 0 "$?"
sed 's/^/# start: /' "$TMP/start.out"

RUN="$R/tmp/tinc"
expected_vpn_conf='PriorityInheritance = yes
ECN = no
FQCoDelECN = yes
ConnectTo = beta
DeviceType = dummy
Name = alpha
ReplayWindow = 2048
Port = 0
Subnet = 10.99.0.1/32
Subnet = fd99::1/128
Shaper = 19M
ShaperOverhead = 52
FQCoDelTarget = 5'
check_eq "vpn/tinc.conf from UCI" "$expected_vpn_conf" "$(cat "$RUN/vpn/tinc.conf" 2>&1)"

expected_beta='-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAbeta
-----END RSA PUBLIC KEY-----
TCPOnly = no
Address = 127.0.0.1 1
Address = beta.example.org
Cipher = aes-128-cbc
Compression = 10
Subnet = 10.99.0.2/32'
check_eq "hosts/beta: /etc copy plus UCI options" "$expected_beta" "$(cat "$RUN/vpn/hosts/beta" 2>&1)"
check_eq "hosts/gamma made from UCI PublicKey" "$(printf 'Address = gamma.example.org 655\nPublicKey = ABCDEF0123')" "$(cat "$RUN/vpn/hosts/gamma" 2>&1)"
check_eq "hosts/zeta named by option Name" "$(printf 'IndirectData = yes\nPublicKeyFile = /etc/tinc/vpn/zeta.pub')" "$(cat "$RUN/vpn/hosts/zeta" 2>&1)"
check "host without key skipped" test ! -e "$RUN/vpn/hosts/delta"
check "warning names the host without key" grep -q 'no public key for delta' "$TMP/start.out"
check "disabled host removed from the copy" test ! -e "$RUN/vpn/hosts/epsilon"
check "disabled host kept in /etc/tinc" test -f "$R/etc/tinc/vpn/hosts/epsilon"
check "tinc 1.1 option reported" grep -q 'vpn: ExperimentalProtocol is a tinc 1.1 option' "$TMP/start.out"
check "tinc-up copied and executable" test -x "$RUN/vpn/tinc-up"

expected_office='Name = omega
Mode = switch
AddressFamily = ipv4
BindToAddress = 192.0.2.1 655
BindToAddress = * 656
BindToInterface = br-lan
Broadcast = direct'
check_eq "office/tinc.conf: /etc file plus UCI" "$expected_office" "$(cat "$RUN/office/tinc.conf" 2>&1)"
check "non-boolean value reported" grep -q 'office: Hostnames is not a boolean' "$TMP/start.out"
check "disabled net not prepared" test ! -e "$RUN/off"
check "net without configuration reported" grep -q 'empty: no tinc.conf' "$TMP/start.out"

# key generation: once, saved under /etc/tinc
check "private key generated in the copy" grep -q 'BEGIN RSA PRIVATE KEY' "$RUN/vpn/rsa_key.priv"
check "private key saved in /etc/tinc" grep -q 'BEGIN RSA PRIVATE KEY' "$R/etc/tinc/vpn/rsa_key.priv"
check_eq "saved private key mode" 600 "$(stat -c %a "$R/etc/tinc/vpn/rsa_key.priv" 2>&1)"
check "public key saved in /etc/tinc/vpn/hosts/alpha" grep -q 'BEGIN RSA PUBLIC KEY' "$R/etc/tinc/vpn/hosts/alpha"
check_eq "copy of /tmp/tinc is private" 700 "$(stat -c %a "$RUN" 2>&1)"
key_sum=$(md5sum <"$R/etc/tinc/vpn/rsa_key.priv")

# what procd was told
check_eq "instances registered" "vpn office" "$(sed -n 's/^instance //p' "$PROCD_LOG" | tr '\n' ' ' | sed 's/ $//')"
check_eq "vpn command line" \
	"$R/usr/sbin/tincd -c $RUN/vpn -n vpn -D --pidfile=$R/var/run/tinc.vpn.pid --logfile=$R/tmp/log/tinc.vpn.log --debug=2" \
	"$(instance_cmd vpn)"
check_eq "office command line" \
	"$R/usr/sbin/tincd -c $RUN/office -n office -D --pidfile=$R/var/run/tinc.office.pid" \
	"$(instance_cmd office)"
check_eq "reload signal" HUP "$(instance_param vpn reload_signal)"
check_eq "watched file" "$RUN/vpn/tinc.conf" "$(instance_param vpn file)"
check "host files watched too" grep -qx "append file|$RUN/vpn/hosts/beta" "$PROCD_LOG"
check_eq "respawn for each instance" 2 "$(grep -c '^set respawn$' "$PROCD_LOG")"
check "reload trigger on /etc/config/tinc" grep -qx 'reload_trigger|tinc' "$PROCD_LOG"
check "full start replaces the instance set" grep -qx 'close_service set' "$PROCD_LOG"

# ---------------------------------------------------------------- the daemon

# Run what procd would run, in a private network namespace when we can.
IFS=' ' read -r -a argv <<<"$(instance_cmd vpn)"
wrap=()
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then wrap=(unshare -n); fi
"${wrap[@]}" "${argv[@]}" >"$TMP/daemon.out" 2>&1 &
DPID=$!
LOG="$R/tmp/log/tinc.vpn.log"
if wait_for "grep -q Ready '$LOG'" 20; then
	pass "tincd ready from the generated directory (${WAITED}s)"
else
	fail "tincd did not get ready"
	sed 's/^/# daemon: /' "$TMP/daemon.out" "$LOG" 2>/dev/null | tail -20
fi
# the first field: the pid file also holds the control cookie and address
read -r pid _ 2>/dev/null <"$R/var/run/tinc.vpn.pid"
check "pid file names the daemon" test -n "$pid" -a -d "/proc/${pid:-none}"

# reload: change UCI, regenerate, deliver HUP as procd's reload_signal would
sed -i "s/option ReplayWindow '2048'/option ReplayWindow '4096'/" "$R/etc/config/tinc"
: >"$PROCD_LOG"
rc reload >"$TMP/reload.out" 2>&1
check_eq "init script reload exit status" 0 "$?"
check "reload regenerated tinc.conf" grep -qx 'ReplayWindow = 4096' "$RUN/vpn/tinc.conf"
check_eq "reload re-registered both instances" "vpn office" "$(sed -n 's/^instance //p' "$PROCD_LOG" | tr '\n' ' ' | sed 's/ $//')"
check_eq "no second key generation" "$key_sum" "$(md5sum <"$R/etc/tinc/vpn/rsa_key.priv")"
[ -n "$pid" ] && kill -HUP "$pid"
if wait_for "grep -q 'Signal HUP' '$LOG'" 10; then pass "daemon took the reload signal"; else fail "no HUP in the log"; fi
check "daemon still running after HUP" kill -0 "${pid:-0}"
[ -n "$pid" ] && kill -TERM "$pid"
wait "$DPID"
check_eq "daemon exit status after TERM" 0 "$?"
DPID=
check "daemon logged its shutdown" grep -q 'Daemon stopped' "$LOG"

# ---------------------------------------------------------------- one net

: >"$PROCD_LOG"
rc stop vpn >/dev/null 2>&1
check "stop NET kills that instance only" grep -qx 'kill|tinc|vpn' "$PROCD_LOG"
: >"$PROCD_LOG"
rc up office >/dev/null 2>&1
check_eq "up NET registers only that net" "office" "$(sed -n 's/^instance //p' "$PROCD_LOG" | tr '\n' ' ' | sed 's/ $//')"
check "up NET adds to the running set" grep -qx 'close_service add' "$PROCD_LOG"
: >"$PROCD_LOG"
rc down office >/dev/null 2>&1
check "down NET kills it" grep -qx 'kill|tinc|office' "$PROCD_LOG"

# ---------------------------------------------------------------- static checks

if command -v shellcheck >/dev/null 2>&1; then
	# SC3043: `local' is not POSIX but ash and dash have it (OpenWrt relies on it);
	# SC2034: START and USE_PROCD are read by rc.common.
	if shellcheck -s sh -S warning -e SC3043,SC2034 "$INIT" >"$TMP/shellcheck.out" 2>&1; then
		pass "shellcheck of tinc.init"
	else
		fail "shellcheck of tinc.init"
		sed 's/^/# /' "$TMP/shellcheck.out" | head -30
	fi
else
	note "shellcheck not installed: static check skipped"
fi

finish

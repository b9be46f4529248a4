# test/net/lib.sh -- shared code of the fqtinc network integration tests.
#
# Sourced (with bash) by every test/net/t_*.sh.  A test builds network
# namespaces, runs tincd daemons in them, pushes traffic through the tunnel and
# counts results with pass/fail/check; `finish` prints "N passed, N failed" as
# the last line and exits 0 or 1.  Exit 77 means "skipped" to automake.
#
# Everything a test creates carries a per-process prefix (test name + $$), so
# tests can run in parallel; an EXIT trap kills what the test started and
# deletes its namespaces; a watchdog bounds the whole test in time.
#
# Daemon selection: FQTINC (our build), TINC (the reference tincd 1.0.36) and
# TINC11 (tinc 1.1pre18's tincd, built from the referee tarball on first use;
# see need_tinc11).  Tests take each node's daemon from a variable (A_DAEMON,
# B_DAEMON, ...) whose value is "fq", "tinc", "tinc11" or a path; see
# resolve_daemon.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh must be sourced by bash" >&2
	exit 99
fi
[ -n "${FQT_LIB_LOADED:-}" ] && return 0
FQT_LIB_LOADED=1

set -o pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export LC_ALL=C

NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$NET_DIR/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
FQTINC=${FQTINC:-$top_builddir/src/tincd}
TINC=${TINC:-/usr/sbin/tincd}
# tinc 1.1pre18's tincd and its control program tinc; empty until need_tinc11
TINC11=${TINC11:-}
TINC11_CTL=${TINC11_CTL:-${TINC11:+$(dirname "$TINC11")/tinc}}
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
NETHELP="$NET_DIR/nethelp.py"

DEBUG_LEVEL=${DEBUG_LEVEL:-3}    # tincd -d level (3 = request names)
KEY_BITS=${KEY_BITS:-2048}
TEST_TIMEOUT=${TEST_TIMEOUT:-180} # whole-test bound, seconds
XFER_TIMEOUT=${XFER_TIMEOUT:-120} # bound of one transfer, seconds
LOG_TAIL=${LOG_TAIL:-40}

# wrappers that exec a common script pass their own name in FQT_TEST_NAME
TEST_NAME=${FQT_TEST_NAME:-$(basename "$0" .sh)}
NS_PREFIX="fqt-${TEST_NAME#t_}-$$"

PASSED=0
FAILED=0
FINISHED=
NODE_COUNT=0
NS_LIST=()
NODE_LIST=()
BG_PIDS=()
declare -A NODE_NS NODE_DIR NODE_DAEMON NODE_IDX NODE_PID NODE_PORT NODE_IF NODE_AF NODE_STARTED
declare -A NS_ADDR4 NS_ADDR6 NS_RIF CAP_PID XFER_RECV_PID XFER_SEND_PID

# ---------------------------------------------------------------- results

note() { echo "# $*"; }

pass() {
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $*"
}

# check DESCRIPTION CMD [ARGS...]: run CMD, pass if it exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1 ($3)"
	else
		fail "$1 (expected '$2', got '$3')"
	fi
}

# check_cmp DESCRIPTION A OP B, with OP one of -lt -le -gt -ge -eq -ne (integers)
check_cmp() {
	if test "$2" "$3" "$4" 2>/dev/null; then
		pass "$1 ($2 $3 $4)"
	else
		fail "$1 (not: $2 $3 $4)"
	fi
}

skip() {
	echo "SKIP: $*"
	FINISHED=skip
	exit 77
}

finish() {
	if [ "$FAILED" -gt 0 ] || [ "$PASSED" -eq 0 ]; then
		dump_logs
	fi
	FINISHED=yes
	echo "$PASSED passed, $FAILED failed"
	if [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]; then exit 0; fi
	exit 1
}

# ---------------------------------------------------------------- time and polling

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# seconds (may be fractional: "2.5") to milliseconds
to_ms() {
	local s=$1 whole frac
	whole=${s%%.*}
	if [ "$whole" != "$s" ]; then
		frac=${s#*.}000
		frac=${frac:0:3}
	else
		frac=000
	fi
	echo $(( ${whole:-0} * 1000 + 10#$frac ))
}

ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# wait_for CMD TIMEOUT: evaluate CMD every 0.1 s until it succeeds (return 0)
# or TIMEOUT seconds have passed (return 1).  WAITED = seconds spent.
wait_for() {
	local cmd=$1 limit
	local start now
	limit=$(to_ms "${2:-10}")
	start=$(now_ms)
	while :; do
		if eval "$cmd" >/dev/null 2>&1; then
			WAITED=$(ms_to_s $(($(now_ms) - start)))
			return 0
		fi
		now=$(now_ms)
		if [ $((now - start)) -ge "$limit" ]; then
			WAITED=$(ms_to_s $((now - start)))
			return 1
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- preconditions

require_root() {
	# make distcheck configures with FQT_SKIP_NET=1: a release tarball's test
	# run should not need namespaces (and would take long on them).
	[ -z "${FQT_SKIP_NET:-}" ] || skip "namespace tests disabled (FQT_SKIP_NET=$FQT_SKIP_NET)"
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	ip netns list >/dev/null 2>&1 || skip "ip netns does not work here"
}

require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t"
	done
}

# resolve_daemon SPEC: "fq"/"fqtinc"/"ours" -> $FQTINC, "tinc" -> $TINC,
# "tinc11" -> $TINC11 (the word itself while it is not built yet: need_daemon
# builds it, make_node resolves again), else a path.
resolve_daemon() {
	case "$1" in
	fq | fqtinc | ours) echo "$FQTINC" ;;
	tinc | ref) echo "$TINC" ;;
	tinc11 | tinc1.1) echo "${TINC11:-tinc11}" ;;
	*) echo "$1" ;;
	esac
}

# daemon_label PATH: short name for messages
daemon_label() {
	if [ "$1" = "$TINC" ]; then echo "tinc"; elif [ "$1" = "$FQTINC" ]; then echo "fqtinc"
	elif [ "$1" = tinc11 ] || { [ -n "$TINC11" ] && [ "$1" = "$TINC11" ]; }; then echo "tinc11"
	else echo "$1"; fi
}

# is_tinc11 PATH: the daemon is tinc 1.1's (its key generation and options differ)
is_tinc11() { [ "$1" = tinc11 ] || { [ -n "$TINC11" ] && [ "$1" = "$TINC11" ]; }; }

need_daemon() {
	if is_tinc11 "$1"; then
		need_tinc11
		return
	fi
	[ -x "$1" ] || skip "daemon $1 not found or not executable (not built yet?)"
}

# need_tinc11: make sure tinc 1.1pre18 is there (TINC11 = its tincd, TINC11_CTL
# = its tinc).  Without TINC11 set, scripts/build-tinc11-referee builds it from
# the release tarball beside the clone, or finds it in its cache; under make
# -j check the first test to ask builds and the others wait on its lock.  No
# tarball: the test skips.  Call before setup_test (a build takes about a
# minute, which the watchdog should not count).
need_tinc11() {
	local dir rc
	require_root # a test that will skip anyway should not build first
	if [ -n "$TINC11" ]; then
		[ -x "$TINC11" ] || skip "tinc 1.1 daemon $TINC11 (TINC11) not found or not executable"
		[ -x "$TINC11_CTL" ] || skip "tinc 1.1 control program $TINC11_CTL (TINC11_CTL) not found or not executable"
		return 0
	fi
	dir=$("$top_srcdir/scripts/build-tinc11-referee")
	rc=$?
	case "$rc" in
	0) ;;
	77) skip "no tinc 1.1pre18 to test against: its release tarball is missing (see the message above)" ;;
	*) echo "Cannot build tinc 1.1pre18 for the test (scripts/build-tinc11-referee exited $rc)" >&2; exit 99 ;;
	esac
	TINC11=$dir/tincd
	TINC11_CTL=$dir/tinc
	export TINC11 TINC11_CTL
	note "tinc 1.1: $("$TINC11" --version | head -n1) from $dir"
}

# Common preamble of every test: root, tools, temp dir, traps, watchdog.
setup_test() {
	require_root
	require_tools ip ping ss timeout "$PYTHON"
	TMP=$(mktemp -d "/tmp/fqt.${TEST_NAME}.XXXXXX") || exit 99
	trap cleanup EXIT
	trap 'echo "# interrupted"; exit 1' INT TERM HUP
	start_watchdog
	note "test $TEST_NAME, pid $$, temp dir $TMP, limit ${TEST_TIMEOUT}s"
}

# setup_interop_test [TOOL...]: setup_test for a test that runs fqtinc next
# to tinc 1.0.36: both daemons must be there, and the TOOLs.
setup_interop_test() {
	need_daemon "$FQTINC"
	need_daemon "$TINC"
	require_tools "$@"
	setup_test
}

# The watchdog sends TERM to the test after TEST_TIMEOUT; a foreground command
# would delay the trap, so it also kills whatever runs in our namespaces.
start_watchdog() {
	local me=$$ limit=$TEST_TIMEOUT prefix=$NS_PREFIX
	(
		trap - EXIT INT TERM HUP
		i=0
		while [ "$i" -lt "$limit" ]; do
			sleep 1
			kill -0 "$me" 2>/dev/null || exit 0
			i=$((i + 1))
		done
		echo "FAIL - watchdog: $TEST_NAME exceeded ${limit}s" >&2
		kill -TERM "$me" 2>/dev/null
		sleep 2
		for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-"); do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		done
	) </dev/null &
	WATCHDOG_PID=$!
}

cleanup() {
	local rc=$? name pid ns
	trap - EXIT INT TERM HUP
	if [ -z "$FINISHED" ]; then
		echo "# test ended early (exit $rc)"
		dump_logs
		[ "$rc" = 0 ] && rc=1
		echo "$PASSED passed, $((FAILED + 1)) failed"
	fi
	for name in "${!CAP_PID[@]}"; do
		kill -TERM "${CAP_PID[$name]}" 2>/dev/null
	done
	for name in "${NODE_LIST[@]}"; do
		pid=${NODE_PID[$name]:-}
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# give daemons a moment to run tinc-down, then make sure
	wait_for "! any_node_alive" 3
	for ns in "${NS_LIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
	for ns in "${NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${WATCHDOG_PID:-}" ] && kill "$WATCHDOG_PID" 2>/dev/null
	wait 2>/dev/null
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		if [ -n "${KEEP_TMP:-}" ]; then
			echo "# kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	exit "$rc"
}

any_node_alive() {
	local name
	for name in "${NODE_LIST[@]}"; do
		node_alive "$name" && return 0
	done
	return 1
}

# ---------------------------------------------------------------- namespaces and topology

# nsx NS CMD...: run CMD in namespace NS.  Not for background jobs whose PID
# matters: a function run with & is a subshell, so $! would not be CMD's PID.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_create() {
	ip netns add "$1" || { echo "cannot create namespace $1" >&2; exit 99; }
	NS_LIST+=("$1")
	ip -n "$1" link set lo up
	# Duplicate address detection would delay IPv6 by seconds; addresses here are unique.
	nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
}

# topo_star ROUTER HOST...: a router namespace with one veth link to each host
# namespace.  Host number i (from 1) gets eth0 = 10.1.i.2/24 and fd01:i::2/64,
# the router's end "hi" = 10.1.i.1 and fd01:i::1, default routes point at the
# router, and the router forwards both families.  Tests may add nft rules or
# tc qdiscs on the router's interfaces to act on the tunnel's outer packets.
topo_star() {
	local router=$1 host i=0
	shift
	ns_create "$router"
	nsx "$router" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	for host in "$@"; do
		i=$((i + 1))
		ns_create "$host"
		ip link add name eth0 netns "$host" type veth peer name "h$i" netns "$router" ||
			{ echo "veth creation failed" >&2; exit 99; }
		ip -n "$router" addr add "10.1.$i.1/24" dev "h$i"
		ip -n "$router" -6 addr add "fd01:$i::1/64" dev "h$i" nodad
		ip -n "$router" link set "h$i" up
		ip -n "$host" addr add "10.1.$i.2/24" dev eth0
		ip -n "$host" -6 addr add "fd01:$i::2/64" dev eth0 nodad
		ip -n "$host" link set eth0 up
		ip -n "$host" route add default via "10.1.$i.1"
		ip -n "$host" -6 route add default via "fd01:$i::1"
		NS_ADDR4[$host]=10.1.$i.2
		NS_ADDR6[$host]=fd01:$i::2
		NS_RIF[$host]=h$i
	done
	ROUTER_NS=$router
}

# nic_links NS...: each host's eth0 cuts UDP GSO messages into datagrams as
# it sends them, as a network card does. Over veth a GSO message would cross
# the router whole: one packet to its counters, captures and qdiscs (a 64 kB
# one holds a 20 Mbit/s gateway for 26 ms, where a real one sees datagrams).
nic_links() {
	local ns
	for ns in "$@"; do
		nsx "$ns" ip link set dev eth0 gso_max_segs 1 || return 1
	done
}

# topo_pair: hostA --veth-- router --veth-- hostB.  Sets NS_A NS_B NS_R.
topo_pair() {
	NS_A=$NS_PREFIX-a
	NS_B=$NS_PREFIX-b
	NS_R=$NS_PREFIX-r
	topo_star "$NS_R" "$NS_A" "$NS_B"
}

# fq_pair [OPTION...]: topo_pair with fqtinc nodes alpha (NS_A) and beta
# (NS_B), both given the KEY=VALUE options, alpha connecting to beta; not
# started.
fq_pair() {
	topo_pair
	make_node "$NS_A" alpha fq "$@" || finish
	make_node "$NS_B" beta fq "$@" || finish
	connect_to alpha beta
	exchange_hosts alpha beta
}

# topo_chain3: three hosts on one router (A, B, C); meta connections are
# chosen by ConnectTo, so A and C need not have one.  Sets NS_A NS_B NS_C NS_R.
topo_chain3() {
	NS_A=$NS_PREFIX-a
	NS_B=$NS_PREFIX-b
	NS_C=$NS_PREFIX-c
	NS_R=$NS_PREFIX-r
	topo_star "$NS_R" "$NS_A" "$NS_B" "$NS_C"
}

# evil_peer_setup: the chain of the authenticated-attacker tests: alpha and
# beta (fqtinc) linked honestly, beta dialing alpha, and "evil" in NS_C with
# keys alpha accepts, not started (the caller runs test/net/evilpeer as it).
# Sets pid (alpha's), status_kb FIELD (a /proc status field of alpha, kB) and
# rss0 (alpha's VmRSS before the attack).
evil_peer_setup() {
	need_daemon "$FQTINC"
	setup_test
	topo_chain3
	make_node "$NS_A" alpha fq || finish
	make_node "$NS_B" beta fq || finish
	make_node "$NS_C" evil fq || finish
	connect_to beta alpha
	exchange_hosts alpha beta
	cp "${NODE_DIR[evil]}/hosts/evil" "${NODE_DIR[alpha]}/hosts/evil"
	cp "${NODE_DIR[alpha]}/hosts/alpha" "${NODE_DIR[evil]}/hosts/alpha"
	start_node alpha || finish
	start_node beta || finish
	check_ping "honest link up" "$NS_B" "$(vpn4 alpha)" 20
	pid=${NODE_PID[alpha]}
	rss0=$(status_kb VmRSS)
	note "alpha before: VmRSS $rss0 kB"
}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

# ---------------------------------------------------------------- nodes

# Options that belong in hosts/NAME (read by the node itself and by its peers);
# everything else goes to tinc.conf.
HOST_KEYS=" address cipher clampmss compression digest indirectdata maclength pmtu pmtudiscovery publickey publickeyfile subnet tcponly weight "

# node_opt NAME KEY=VALUE: append one option to the right file.  "host:K=V" or
# "conf:K=V" forces the file.
node_opt() {
	local name=$1 opt=$2 file key val lkey
	local dir=${NODE_DIR[$name]}
	case "$opt" in
	host:*) file=hosts/$name; opt=${opt#host:} ;;
	conf:*) file=tinc.conf; opt=${opt#conf:} ;;
	*) file= ;;
	esac
	key=${opt%%=*}
	val=${opt#*=}
	lkey=${key,,}
	if [ -z "$file" ]; then
		case "$HOST_KEYS" in
		*" $lkey "*) file=hosts/$name ;;
		*) file=tinc.conf ;;
		esac
	fi
	printf '%s = %s\n' "$key" "$val" >>"$dir/$file"
}

# node_unset NAME KEY: remove every KEY line from both of the node's files.
node_unset() {
	local dir=${NODE_DIR[$1]}
	sed -i "/^[[:space:]]*$2[[:space:]]*=/Id" "$dir/tinc.conf" "$dir/hosts/$1"
}

# node_set NAME KEY=VALUE...: replace (unset, then add) options.
node_set() {
	local name=$1 opt
	shift
	for opt in "$@"; do
		node_unset "$name" "$(echo "${opt#*:}" | sed 's/=.*//')"
		node_opt "$name" "$opt"
	done
}

# make_node NS NAME DAEMON [OPTION...]
#   Creates $TMP/NAME with tinc.conf, tinc-up, hosts/NAME and a fresh RSA key.
#   The node gets number i: VPN addresses 10.10.0.i/24 and fd10::i/64, port
#   6600+i, interface vpnI.  OPTIONs are KEY=VALUE (see node_opt), plus
#   af=4|6|any to choose the outer family of its Address lines and AddressFamily,
#   and for a tinc 1.1 node ed25519=yes to give it an Ed25519 key pair as well
#   (its public key lands in hosts/NAME, so exchange_hosts hands it out).
make_node() {
	local ns=$1 name=$2 daemon=$3 opt af=4 ed25519=no idx dir port iface
	shift 3
	daemon=$(resolve_daemon "$daemon")
	if is_tinc11 "$daemon"; then
		need_tinc11
		daemon=$TINC11
	fi
	NODE_COUNT=$((NODE_COUNT + 1))
	idx=$NODE_COUNT
	dir=$TMP/$name
	port=$((6600 + idx))
	iface=vpn$idx
	for opt in "$@"; do
		case "$opt" in
		af=*) af=${opt#af=} ;;
		ed25519=*) ed25519=${opt#ed25519=} ;;
		esac
	done
	mkdir -p "$dir/hosts"
	NODE_LIST+=("$name")
	NODE_NS[$name]=$ns
	NODE_DIR[$name]=$dir
	NODE_DAEMON[$name]=$daemon
	NODE_IDX[$name]=$idx
	NODE_PORT[$name]=$port
	NODE_IF[$name]=$iface
	NODE_AF[$name]=$af

	{
		echo "Name = $name"
		echo "Mode = router"
		echo "DeviceType = tun"
		echo "Interface = $iface"
		case "$af" in
		4) echo "AddressFamily = ipv4" ;;
		6) echo "AddressFamily = ipv6" ;;
		*) echo "AddressFamily = any" ;;
		esac
		echo "Port = $port"
		# tinc 1.1 also dials nodes it only heard of (AutoConnect, on by
		# default); off, the test's ConnectTo lines are the whole topology
		# as with the other daemons.  AutoConnect=yes turns it back on.
		is_tinc11 "$daemon" && echo "AutoConnect = no"
	} >"$dir/tinc.conf"
	{
		case "$af" in
		4) echo "Address = ${NS_ADDR4[$ns]} $port" ;;
		6) echo "Address = ${NS_ADDR6[$ns]} $port" ;;
		*) echo "Address = ${NS_ADDR4[$ns]} $port"
		   echo "Address = ${NS_ADDR6[$ns]} $port" ;;
		esac
		echo "Subnet = $(vpn4 "$name")/32"
		echo "Subnet = $(vpn6 "$name")/128"
	} >"$dir/hosts/$name"
	for opt in "$@"; do
		case "$opt" in
		af=* | ed25519=*) ;;
		Mode=* | DeviceType=* | AddressFamily=* | Interface=* | Port=* | AutoConnect=*) node_set "$name" "$opt" ;;
		*) node_opt "$name" "$opt" ;;
		esac
	done
	cat >"$dir/tinc-up" <<-EOF
		#!/bin/sh
		ip link set dev "\$INTERFACE" up
		ip addr add $(vpn4 "$name")/24 dev "\$INTERFACE"
		ip -6 addr add $(vpn6 "$name")/64 dev "\$INTERFACE" nodad
	EOF
	chmod 755 "$dir/tinc-up"

	if ! node_keygen "$name" "$daemon" "$ed25519" </dev/null >"$dir/keygen.log" 2>&1 ||
		! grep -q 'BEGIN RSA PUBLIC KEY' "$dir/hosts/$name" ||
		! grep -q 'PRIVATE KEY' "$dir/rsa_key.priv" 2>/dev/null; then
		fail "key generation for $name with $daemon"
		sed 's/^/#   /' "$dir/keygen.log"
		return 1
	fi
	return 0
}

# node_keygen NAME DAEMON ED25519: tincd -K for tinc 1.0 and fqtinc; tinc 1.1's
# tincd has no -K, its control program generates the keys (-b: ask nothing,
# use the default file names, rsa_key.priv and hosts/NAME).
node_keygen() {
	local dir=${NODE_DIR[$1]}
	if is_tinc11 "$2"; then
		"$TINC11_CTL" -b -c "$dir" generate-rsa-keys "$KEY_BITS" || return 1
		if [ "$3" = yes ]; then
			"$TINC11_CTL" -b -c "$dir" generate-ed25519-keys || return 1
			grep -q '^Ed25519PublicKey' "$dir/hosts/$1" || return 1
		fi
		return 0
	fi
	[ "$3" = yes ] && { echo "ed25519=yes is for tinc 1.1 nodes only"; return 1; }
	"$2" -c "$dir" -K"$KEY_BITS"
}

vpn4() { echo "10.10.0.${NODE_IDX[$1]}"; }
vpn6() { echo "fd10::${NODE_IDX[$1]}"; }
# the node's outer (underlay) address
outer4() { echo "${NS_ADDR4[${NODE_NS[$1]}]}"; }
outer6() { echo "${NS_ADDR6[${NODE_NS[$1]}]}"; }

connect_to() { node_opt "$1" "ConnectTo=$2"; }

# exchange_hosts NAME...: give every listed node the host file of every other.
exchange_hosts() {
	local a b
	for a in "$@"; do
		for b in "$@"; do
			[ "$a" = "$b" ] && continue
			cp "${NODE_DIR[$a]}/hosts/$a" "${NODE_DIR[$b]}/hosts/$a"
		done
	done
}

node_alive() {
	local pid=${NODE_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# ready = tinc-up has run (VPN address present) and the meta port listens
node_ready() {
	local name=$1 ns=${NODE_NS[$1]}
	ip -n "$ns" -4 addr show dev "${NODE_IF[$name]}" 2>/dev/null | grep -q "inet $(vpn4 "$name")/" &&
		nsx "$ns" ss -Hltn "sport = :${NODE_PORT[$name]}" 2>/dev/null | grep -q .
}

# start_node NAME [EXTRA DAEMON ARGS...]: run the daemon in the foreground
# (-D) in the node's namespace, output appended to $TMP/NAME/log; wait until
# it is ready (at most 15 s).
start_node() {
	local name=$1 dir=${NODE_DIR[$1]} log start
	shift
	log=$dir/log
	rm -f "$dir/pid"
	echo "===== start $(date +%T.%N) $(daemon_label "${NODE_DAEMON[$name]}") $*" >>"$log"
	ip netns exec "${NODE_NS[$name]}" "${NODE_DAEMON[$name]}" -c "$dir" -D -d"$DEBUG_LEVEL" \
		--pidfile="$dir/pid" "$@" </dev/null >>"$log" 2>&1 &
	NODE_PID[$name]=$!
	NODE_STARTED[$name]=$EPOCHSECONDS
	start=$(now_ms)
	while ! node_ready "$name"; do
		if ! node_alive "$name"; then
			fail "$name ($(daemon_label "${NODE_DAEMON[$name]}")) exited during startup"
			return 1
		fi
		if [ $(($(now_ms) - start)) -gt 15000 ]; then
			fail "$name did not become ready within 15 s"
			return 1
		fi
		sleep 0.1
	done
	# tinc 1.0.36 may take its nonce seed only after tinc-up (when it has
	# dialled out), a second later than its launch: count from the second
	# it was seen ready (see wait_next_second).
	NODE_STARTED[$name]=$EPOCHSECONDS
	note "started $name: $(daemon_label "${NODE_DAEMON[$name]}") pid ${NODE_PID[$name]} in ${NODE_NS[$name]}, port ${NODE_PORT[$name]}, $(vpn4 "$name") $(vpn6 "$name")"
	return 0
}

# stop_node NAME: SIGTERM, then SIGKILL after 5 s.  NODE_STATUS = exit status.
stop_node() {
	local name=$1 pid=${NODE_PID[$1]:-}
	NODE_STATUS=
	[ -z "$pid" ] && return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "! node_alive $name" 5; then
		note "$name ignored SIGTERM for 5 s; killing"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	NODE_STATUS=$?
	NODE_PID[$name]=
}

# kill_node NAME: SIGKILL, no chance to clean up (simulates a crash).
kill_node() {
	local name=$1 pid=${NODE_PID[$1]:-}
	[ -z "$pid" ] && return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	NODE_PID[$name]=
}

# wait_next_second NAME: return once the wall-clock second in which NAME was
# last seen ready is over.  tinc 1.0.36 seeds its request nonces with the time
# in seconds, so an instance seeded within the same second repeats its
# predecessor's ADD_SUBNET/ADD_EDGE lines word for word, and peers drop them
# as already seen: the node stays unreachable (or they crash on its REQ_KEY,
# see protocol.md §3.9).  A real restart never takes less than a second; the
# tests must not either.
wait_next_second() {
	wait_for "[ \$EPOCHSECONDS -gt ${NODE_STARTED[$1]:-0} ]" 2
}

stop_all_nodes() {
	local name
	for name in "${NODE_LIST[@]}"; do stop_node "$name"; done
}

# node_log NAME [LINES]: the end of the node's daemon log
node_log() {
	local name=$1 n=${2:-$LOG_TAIL} log=${NODE_DIR[$1]}/log
	echo "#----- last $n lines of $name's log ($(daemon_label "${NODE_DAEMON[$name]}"), $log)"
	if [ -f "$log" ]; then tail -n "$n" "$log" | sed 's/^/#  /'; else echo "#  (no log)"; fi
}

dump_logs() {
	local name
	for name in "${NODE_LIST[@]}"; do node_log "$name"; done
}

# log_count NAME REGEX: number of matching lines in the node's log
log_count() {
	local c
	c=$(grep -E -c -- "$2" "${NODE_DIR[$1]}/log" 2>/dev/null)
	echo "${c:-0}"
}

# normal_mode_now NODE PEER: NODE (fqtinc), since its latest start, sends to
# PEER in RFC 6040 normal mode. A pair of fqtinc nodes starts in
# compatibility mode and turns to normal mode once the first check of the
# path has come back (ECN path validation, doc/protocol.md §10.4).
normal_mode_now() {
	awk -v want="Packets to $2 now go in RFC 6040 " '
		/^===== start / { mode = "" }
		index($0, want) { mode = $0 }
		END { exit !(mode ~ /normal mode/) }' "${NODE_DIR[$1]}/log" 2>/dev/null
}

# ---------------------------------------------------------------- ping

# ping_ok NS ADDR [PING ARGS...]: one echo request, answered within 1 s
ping_ok() {
	local ns=$1 addr=$2
	shift 2
	nsx "$ns" ping -n -q -c1 -W1 "$@" "$addr" >/dev/null 2>&1
}

# wait_for_ping NS ADDR TIMEOUT: poll until a ping gets through; prints the time
wait_for_ping() {
	if wait_for "ping_ok $1 $2" "${3:-10}"; then
		note "ping $1 -> $2 answered after ${WAITED}s"
		return 0
	fi
	note "ping $1 -> $2: no answer within ${3:-10}s"
	return 1
}

# check_ping DESC NS ADDR [TIMEOUT]
check_ping() {
	if wait_for "ping_ok $2 $3" "${4:-10}"; then
		pass "$1 (after ${WAITED}s)"
	else
		fail "$1 (no answer within ${4:-10}s)"
	fi
}

# ping_pairs FAMILY TIMEOUT NODE...: every ordered pair of the NODEs pings
# over the tunnel (FAMILY 4 or 6), one background job per source node, each
# pair polled until it answers or TIMEOUT seconds pass.  Sets PAIRS_OK (the
# number of pairs that answered) and PAIRS_FAILED ("SRC->DST ..." of the rest).
ping_pairs() {
	local fam=$1 limit=$2 src dst out pids=()
	shift 2
	out=$(mktemp -d "$TMP/pairs.XXXXXX")
	for src in "$@"; do
		for dst in "$@"; do
			[ "$dst" = "$src" ] && continue
			if wait_for "ping_ok ${NODE_NS[$src]} $(vpn"$fam" "$dst")" "$limit"; then
				echo "$src $dst ok"
			else
				echo "$src $dst fail"
			fi
		done >"$out/$src" &
		pids+=($!)
	done
	wait "${pids[@]}"
	PAIRS_OK=$(cat "$out"/* | grep -c ' ok$')
	PAIRS_FAILED=$(cat "$out"/* | awk '$3 == "fail" { printf "%s%s->%s", sep, $1, $2; sep = " " }')
}

# The attack tests keep an honest peer pinging the node under attack through
# the tunnel, and afterwards check that the honest side barely noticed.

# honest_ping_start HONEST TARGET SECONDS: node HONEST pings node TARGET's
# VPN address five times a second in the background, for at most SECONDS.
honest_ping_start() {
	HONEST=$1 HONEST_TARGET=$2 HONEST_PING_LOG=$TMP/ping.log
	ip netns exec "${NODE_NS[$1]}" ping -n -q -i 0.2 -w "$3" "$(vpn4 "$2")" >"$HONEST_PING_LOG" 2>&1 &
	HONEST_PING_PID=$!
	BG_PIDS+=("$HONEST_PING_PID")
}

# honest_ping_check WHEN: stop that ping; check that during WHEN (e.g. "the
# attack") it lost under 5 %, the honest meta connection never dropped, and
# that the target still runs and answers.
honest_ping_check() {
	local when=$1 loss
	kill -INT "$HONEST_PING_PID" 2>/dev/null
	wait "$HONEST_PING_PID" 2>/dev/null
	loss=$(grep -o -E '[0-9.]+% packet loss' "$HONEST_PING_LOG" | grep -o -E '^[0-9]+')
	note "honest ping during $when: $(grep -E 'packets transmitted' "$HONEST_PING_LOG")"
	check_cmp "honest ping loss during $when under 5 %" "${loss:-100}" -lt 5
	check_eq "the honest connection never dropped" 0 \
		"$(log_count "$HONEST" "Closing (the )?connection with $HONEST_TARGET")"
	check "$HONEST_TARGET still running" node_alive "$HONEST_TARGET"
	check_ping "honest link still up" "${NODE_NS[$HONEST]}" "$(vpn4 "$HONEST_TARGET")" 5
}

# ---------------------------------------------------------------- capture

# capture_start NS IFACE TAG [FILTER...]: tcpdump into $TMP/TAG.pcap (headers
# only), in immediate mode so that a capture stopped right after the traffic
# still holds its last packets.
capture_start() {
	local ns=$1 ifc=$2 tag=$3
	shift 3
	ip netns exec "$ns" tcpdump -i "$ifc" -n -U --immediate-mode -s 128 -Z root -w "$TMP/$tag.pcap" "$@" \
		</dev/null >"$TMP/$tag.tcpdump.log" 2>&1 &
	CAP_PID[$tag]=$!
	if ! wait_for "grep -q 'listening on' $TMP/$tag.tcpdump.log" 5; then
		note "tcpdump $tag did not start: $(cat "$TMP/$tag.tcpdump.log")"
		return 1
	fi
}

capture_stop() {
	local tag=$1 pid=${CAP_PID[$1]:-}
	[ -z "$pid" ] && return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "! kill -0 $pid" 5; then kill -KILL "$pid" 2>/dev/null; fi
	wait "$pid" 2>/dev/null
	unset "CAP_PID[$tag]"
	note "capture $tag: $(grep -E 'captured|dropped by kernel' "$TMP/$tag.tcpdump.log" | tr '\n' ' ')"
}

# pcap_flows TAG: one line per flow: PROTO SRC DST DPORT SPORT PKTS BYTES
pcap_flows() {
	"$PYTHON" "$NETHELP" pcap "$TMP/$1.pcap"
}

# pcap_sum TAG PROTO SRC DST [PORT]: "PKTS BYTES" of the matching flows; SRC,
# DST may be '*'; PORT (if given) must be the source or destination port.
pcap_sum() {
	pcap_flows "$1" | awk -v p="$2" -v s="$3" -v d="$4" -v port="${5:-}" '
		$1 == p && (s == "*" || $2 == s) && (d == "*" || $3 == d) &&
		(port == "" || $4 == port || $5 == port) { n += $6; b += $7 }
		END { printf "%d %d\n", n, b }'
}

# tunnel_counts TAG PORT...: "UDP_PKTS UDP_BYTES TCP_PKTS TCP_BYTES" of packets
# to or from any of the tunnel ports
tunnel_counts() {
	local tag=$1
	shift
	pcap_flows "$tag" | awk -v ports=" $* " '
		index(ports, " " $4 " ") || index(ports, " " $5 " ") {
			if ($1 == "udp") { up += $6; ub += $7 } else { tp += $6; tb += $7 }
		}
		END { printf "%d %d %d %d\n", up, ub, tp, tb }'
}

# ---------------------------------------------------------------- counters (nft)

# counters_start NS PORT...: count forwarded UDP and TCP packets of the tunnel
# ports in the router namespace NS (cheaper than a capture for big transfers):
# totals, and UDP per destination port (= towards the node with that port).
counters_start() {
	local ns=$1 p defs="" rules=""
	shift
	COUNTER_NS=$ns
	COUNTER_PORTS="$*"
	for p in "$@"; do
		defs+="counter udp_to_$p { }"$'\n'
		rules+="udp dport $p counter name \"udp_to_$p\""$'\n'
	done
	nsx "$ns" nft -f - <<-EOF
		table inet fqtcount {
			counter udp_c { }
			counter tcp_c { }
			$defs
			set ports { type inet_service; elements = { $(echo "$*" | sed 's/ /, /g') } }
			chain forward_count {
				type filter hook forward priority 0; policy accept;
				udp dport @ports counter name "udp_c"
				tcp dport @ports counter name "tcp_c"
				tcp sport @ports counter name "tcp_c"
				$rules
			}
		}
	EOF
}

# counters_read: sets UDP_PKTS UDP_BYTES TCP_PKTS TCP_BYTES, UDP_TO[PORT]
# (bytes of IP packets, headers included) and UDP_TO_PKTS[PORT]
declare -A UDP_TO UDP_TO_PKTS
counters_read() {
	local name pkts bytes p
	UDP_PKTS=0 UDP_BYTES=0 TCP_PKTS=0 TCP_BYTES=0
	for p in $COUNTER_PORTS; do UDP_TO[$p]=0 UDP_TO_PKTS[$p]=0; done
	# parsed in the shell: tests poll this, and a process per value made a
	# read take a third of a second
	while read -r name pkts bytes; do
		case "$name" in
		udp_c) UDP_PKTS=$pkts UDP_BYTES=$bytes ;;
		tcp_c) TCP_PKTS=$pkts TCP_BYTES=$bytes ;;
		udp_to_*) UDP_TO[${name#udp_to_}]=$bytes UDP_TO_PKTS[${name#udp_to_}]=$pkts ;;
		esac
	done < <(nsx "$COUNTER_NS" nft list counters table inet fqtcount 2>/dev/null |
		awk '/counter / { name = $2 } /packets/ { print name, $2, $4 }')
}

counters_reset() {
	nsx "$COUNTER_NS" nft reset counters table inet fqtcount >/dev/null
}

counters_note() {
	counters_read
	note "tunnel traffic $*: UDP $UDP_PKTS packets / $UDP_BYTES bytes, TCP $TCP_PKTS packets / $TCP_BYTES bytes"
}

# ---------------------------------------------------------------- path MTU

# pmtu_ping NS ADDR SIZE [fresh|cached]: one ping of SIZE payload bytes with
# DF set.  "fresh" (default) first flushes the path MTUs that NS's kernel has
# learnt, so the packet reaches the tunnel and the daemon itself must answer
# "frag needed"; "cached" keeps them (the kernel may refuse locally).
# Prints "ok", "toobig MTU" or "lost".
pmtu_ping() {
	local out m
	if [ "${4:-fresh}" = fresh ]; then
		ip -n "$1" route flush cache 2>/dev/null
		ip -n "$1" -6 route flush cache 2>/dev/null
	fi
	out=$(nsx "$1" ping -n -c1 -W1 -M do -s "$3" "$2" 2>&1)
	if echo "$out" | grep -q ' bytes from '; then
		echo ok
		return
	fi
	m=$(echo "$out" | grep -o -E 'mtu ?[=:] ?[0-9]+' | grep -o -E '[0-9]+$' | head -n1)
	if [ -n "$m" ]; then echo "toobig $m"; else echo lost; fi
}

# pmtu_settled SRC_NS DST_ADDR4: true once the daemon in SRC_NS has finished
# PMTU discovery towards the node owning DST_ADDR4: an oversized DF ping is
# answered "frag needed" with the tunnel MTU M, and a ping of exactly M bytes
# crosses the router without touching the TCP counter (so it went by UDP,
# which only happens once the confirmed minimum reaches the MTU).  Needs
# counters_start.  Sets SETTLED_MTU (= M, the MTU reported to inner hosts).
pmtu_settled() {
	local r m before
	r=$(pmtu_ping "$1" "$2" 1472)
	case "$r" in
	toobig*) m=${r#toobig } ;;
	*) return 1 ;;
	esac
	counters_read
	before=$TCP_BYTES
	[ "$(pmtu_ping "$1" "$2" $((m - 28)))" = ok ] || return 1
	counters_read
	[ $((TCP_BYTES - before)) -lt $((m - 28)) ] || return 1
	SETTLED_MTU=$m
}

# wait_pmtu_settled SRC_NS DST_ADDR4 TIMEOUT: poll pmtu_settled; prints the result
wait_pmtu_settled() {
	SETTLED_MTU=
	if wait_for "pmtu_settled $1 $2" "${3:-30}"; then
		note "path MTU $1 -> $2 settled after ${WAITED}s: inner MTU $SETTLED_MTU (frame $((SETTLED_MTU + 14)))"
		return 0
	fi
	note "path MTU $1 -> $2 not settled within ${3:-30}s (last answer to a 1500-byte DF ping: $(pmtu_ping "$1" "$2" 1472))"
	return 1
}

# udp_path_ok SRC_NS DST_ADDR4 SIZE [PING ARGS...]: a ping of SIZE payload
# bytes is answered and did not add to the router's TCP counter, so it
# crossed by UDP.
udp_path_ok() {
	local before ns=$1 addr=$2 size=$3
	shift 3
	counters_read
	before=$TCP_BYTES
	ping_ok "$ns" "$addr" -s "$size" "$@" || return 1
	counters_read
	[ $((TCP_BYTES - before)) -lt "$size" ]
}

# wait_udp_path SRC_NS DST_ADDR4 SIZE TIMEOUT: poll udp_path_ok
wait_udp_path() {
	if wait_for "udp_path_ok $1 $2 $3" "${4:-30}"; then
		note "$3-byte pings $1 -> $2 go by UDP after ${WAITED}s"
		return 0
	fi
	note "$3-byte pings $1 -> $2 still not by UDP after ${WAITED}s"
	return 1
}

# ---------------------------------------------------------------- transfers

# transfer_start ID SRC_NS DST_NS DST_ADDR PORT BYTES [SEND OPTIONS...]
#   A TCP transfer through the tunnel from SRC_NS to DST_ADDR:PORT (a receiver
#   started in DST_NS).  Data is deterministic pseudo-random (or --kind text);
#   both ends hash what they saw.  Bounded by XFER_TIMEOUT.
transfer_start() {
	local id=$1 src=$2 dst=$3 addr=$4 port=$5 bytes=$6
	shift 6
	rm -f "$TMP/xfer.$id".*
	timeout "$XFER_TIMEOUT" ip netns exec "$dst" "$PYTHON" "$NETHELP" recv "$port" "$TMP/xfer.$id.res" \
		</dev/null >"$TMP/xfer.$id.recvlog" 2>&1 &
	XFER_RECV_PID[$id]=$!
	BG_PIDS+=($!)
	if ! wait_for "[ -e $TMP/xfer.$id.res.ready ]" 10; then
		note "transfer $id: receiver did not start: $(cat "$TMP/xfer.$id.recvlog")"
	fi
	timeout "$XFER_TIMEOUT" ip netns exec "$src" "$PYTHON" "$NETHELP" send "$addr" "$port" "$bytes" "$@" \
		</dev/null >"$TMP/xfer.$id.send" 2>"$TMP/xfer.$id.sendlog" &
	XFER_SEND_PID[$id]=$!
	BG_PIDS+=($!)
}

# transfer_wait ID: wait for both ends; return 0 if every byte arrived intact.
# Sets XFER_BYTES XFER_SECS XFER_MAXGAP.
transfer_wait() {
	local id=$1 sbytes ssha ssecs rbytes rsha rgap rsecs mbit
	wait "${XFER_SEND_PID[$id]}" 2>/dev/null
	wait "${XFER_RECV_PID[$id]}" 2>/dev/null
	read -r sbytes ssha ssecs 2>/dev/null <"$TMP/xfer.$id.send"
	read -r rbytes rsha rgap rsecs 2>/dev/null <"$TMP/xfer.$id.res"
	XFER_BYTES=${rbytes:-0}
	XFER_SECS=${ssecs:-0}
	XFER_MAXGAP=${rgap:-0}
	if [ -z "$sbytes" ] || [ -z "$rbytes" ]; then
		note "transfer $id incomplete: sender: $(tail -n 3 "$TMP/xfer.$id.sendlog" | tr '\n' ' ') receiver: $(tail -n 3 "$TMP/xfer.$id.recvlog" | tr '\n' ' ')"
		return 1
	fi
	mbit=$(awk -v b="$rbytes" -v s="$ssecs" 'BEGIN { if (s > 0) printf "%.1f", b * 8 / s / 1e6; else print "?" }')
	note "transfer $id: sent $sbytes, received $rbytes bytes in ${ssecs}s ($mbit Mbit/s), longest pause ${rgap}s, sha256 ${rsha:0:16}... $([ "$ssha" = "$rsha" ] && echo match || echo "MISMATCH ${ssha:0:16}...")"
	[ "$sbytes" = "$rbytes" ] && [ "$ssha" = "$rsha" ]
}

# transfer ID SRC_NS DST_NS DST_ADDR BYTES [SEND OPTIONS...]: the two above in one go
transfer() {
	local id=$1 src=$2 dst=$3 addr=$4 bytes=$5
	shift 5
	transfer_start "$id" "$src" "$dst" "$addr" 5001 "$bytes" "$@"
	transfer_wait "$id"
}

MB=1048576

# bench/fastd.sh -- the third daemon kind of bench/run: a fastd point-to-point
# tunnel from A to B, for the comparison issue 13 asks for.  Sourced by
# bench/run after test/net/lib.sh; everything fastd-specific lives here.
#
# A fastd node is registered in lib.sh's NODE_* tables like a tinc node (same
# numbering, so the same inner addresses 10.10.0.i and fd10::i, port 6600+i
# and interface vpnI), so the rest of bench/run (sampling /proc/PID/stat, the
# tun counters, RSS, cleanup, logs) treats it like the others.  Differences:
# the daemon has a config file of its own, an X25519 key pair from
# `fastd --generate-key`, no meta TCP port (it is ready when its UDP socket
# is bound and the up-script has addressed its interface), and a fixed MTU.
#
# MTU: fastd does no path MTU discovery, it sends what its interface gives
# it.  Over IPv4 a datagram costs 20 (IP) + 8 (UDP) + 24 bytes (fastd's
# packet header, nonce and authentication tag; the same for every secure
# method), so an interface MTU of 1500 - 52 = 1448 gives outer packets of at
# most 1500 bytes: the veth links' MTU, no fragmentation, and close to the
# 1437-1451-byte inner packets of the tinc pairs.

# shellcheck disable=SC2034 # the NODE_* and P_* tables are read by lib.sh and bench/run

FASTD=${FASTD:-$(command -v fastd 2>/dev/null)}
FASTD_OUTER_MTU=1500
FASTD_OVERHEAD=$((20 + 8 + 24))
FASTD_MTU=${BENCH_FASTD_MTU:-$((FASTD_OUTER_MTU - FASTD_OVERHEAD))}
# the secure method that cost the least CPU per GB on the bench machine (it has
# AES instructions); bench/README.md has the measurement
FASTD_METHOD=${BENCH_FASTD_METHOD:-aes128-ctr+umac}

# fastd_installed: there is a fastd to run
fastd_installed() { [ -n "$FASTD" ] && [ -x "$FASTD" ]; }

fastd_version() { "$FASTD" --version 2>/dev/null | head -n1; }

# fastd_check_method: the configured method is one this fastd knows
fastd_check_method() {
	local dir=$TMP/fastd-method-check secret
	mkdir -p "$dir"
	secret=$("$FASTD" --generate-key --machine-readable 2>/dev/null) || return 1
	printf 'mode tun;\nmethod "%s";\nsecret "%s";\n' "$FASTD_METHOD" "$secret" >"$dir/fastd.conf"
	"$FASTD" -c "$dir/fastd.conf" --verify-config >"$dir/log" 2>&1 && return 0
	sed 's/^/# /' "$dir/log" >&2
	return 1
}

declare -A FASTD_SECRET FASTD_PUBLIC

# fastd_make_node NS NAME: a node directory with a fresh key pair and an
# up-script; the config is written by fastd_write_conf once the peer's key
# exists.
fastd_make_node() {
	local ns=$1 name=$2 idx dir keys
	NODE_COUNT=$((NODE_COUNT + 1))
	idx=$NODE_COUNT
	dir=$TMP/$name
	mkdir -p "$dir"
	NODE_LIST+=("$name")
	NODE_NS[$name]=$ns
	NODE_DIR[$name]=$dir
	NODE_DAEMON[$name]=$FASTD
	NODE_IDX[$name]=$idx
	NODE_PORT[$name]=$((6600 + idx))
	NODE_IF[$name]=vpn$idx
	NODE_AF[$name]=4
	keys=$("$FASTD" --generate-key </dev/null 2>"$dir/keygen.log")
	FASTD_SECRET[$name]=$(echo "$keys" | awk '$1 == "Secret:" { print $2 }')
	FASTD_PUBLIC[$name]=$(echo "$keys" | awk '$1 == "Public:" { print $2 }')
	if [ ${#FASTD_SECRET[$name]} != 64 ] || [ ${#FASTD_PUBLIC[$name]} != 64 ]; then
		echo "bench: fastd --generate-key for $name gave no key pair: $(cat "$dir/keygen.log")" >&2
		return 1
	fi
	# fastd sets the MTU itself; the script only brings the interface up
	# with the same addresses a tinc node's tinc-up gives it
	cat >"$dir/up" <<-EOF
		#!/bin/sh
		ip link set dev "\$INTERFACE" up
		ip addr add $(vpn4 "$name")/24 dev "\$INTERFACE"
		ip -6 addr add $(vpn6 "$name")/64 dev "\$INTERFACE" nodad
	EOF
	chmod 755 "$dir/up"
}

# fastd_write_conf NAME PEER [dial]: NAME's config with PEER as its only peer;
# "dial" gives it PEER's address, so NAME starts the handshakes (like
# ConnectTo), else it waits for PEER.
fastd_write_conf() {
	local name=$1 peer=$2 dial=${3:-} level=info
	[ "${DEBUG_LEVEL:-0}" -ge 3 ] && level=debug
	[ "${DEBUG_LEVEL:-0}" -ge 1 ] && [ "$level" = info ] && level=verbose
	{
		echo "log level $level;"
		echo "mode tun;"
		echo "interface \"${NODE_IF[$name]}\";"
		echo "mtu $FASTD_MTU;"
		echo "bind $(outer4 "$name"):${NODE_PORT[$name]};"
		echo "method \"$FASTD_METHOD\";"
		echo "secret \"${FASTD_SECRET[$name]}\";"
		echo "on up sync \"${NODE_DIR[$name]}/up\";"
		echo "peer \"$peer\" {"
		echo "	key \"${FASTD_PUBLIC[$peer]}\";"
		[ -n "$dial" ] && echo "	remote $(outer4 "$peer"):${NODE_PORT[$peer]};"
		echo "}"
	} >"${NODE_DIR[$name]}/fastd.conf"
}

# fastd_build_pair D: topology and the two nodes of pair D (not started);
# the counterpart of bench/run's build_pair
fastd_build_pair() {
	local d=$1 p=$NS_PREFIX-$1 n
	topo_star "$p-r" "$p-a" "$p-b"
	P_NSA[$d]=$p-a P_NSB[$d]=$p-b P_NSR[$d]=$p-r
	P_A[$d]=${d}a P_B[$d]=${d}b
	fastd_make_node "$p-a" "${d}a" || die "cannot make node ${d}a"
	fastd_make_node "$p-b" "${d}b" || die "cannot make node ${d}b"
	fastd_write_conf "${d}a" "${d}b" dial
	fastd_write_conf "${d}b" "${d}a"
	"$FASTD" -c "${NODE_DIR[${d}a]}/fastd.conf" --verify-config >"$TMP/verify-${d}a.log" 2>&1 ||
		die "fastd rejects the config of ${d}a: $(tail -n 3 "$TMP/verify-${d}a.log")"
	for n in "$p-a" "$p-b"; do
		nsx "$n" sysctl -qw net.ipv4.tcp_ecn="$ECN" >/dev/null || die "cannot set tcp_ecn=$ECN"
	done
}

# fastd_ready NAME: the up-script has addressed the interface and the UDP
# socket is bound
fastd_ready() {
	local name=$1 ns=${NODE_NS[$1]}
	ip -n "$ns" -4 addr show dev "${NODE_IF[$name]}" 2>/dev/null | grep -q "inet $(vpn4 "$name")/" &&
		nsx "$ns" ss -Hlun "sport = :${NODE_PORT[$name]}" 2>/dev/null | grep -q .
}

# fastd_start_node NAME: fastd in the foreground in the node's namespace, its
# output appended to the node's log, NODE_PID its pid (ip netns exec execs
# it); waits until it is ready, at most 15 s.  Returns 1 if it is not.
fastd_start_node() {
	local name=$1 dir=${NODE_DIR[$1]} start
	echo "===== start $(date +%T.%N) fastd $FASTD_METHOD" >>"$dir/log"
	ip netns exec "${NODE_NS[$name]}" "$FASTD" -c "$dir/fastd.conf" </dev/null >>"$dir/log" 2>&1 &
	NODE_PID[$name]=$!
	NODE_STARTED[$name]=$EPOCHSECONDS
	start=$(now_ms)
	while ! fastd_ready "$name"; do
		if ! node_alive "$name"; then
			echo "bench: fastd $name exited during startup: $(tail -n 3 "$dir/log")" >&2
			return 1
		fi
		if [ $(($(now_ms) - start)) -gt 15000 ]; then
			echo "bench: fastd $name not ready within 15 s: $(tail -n 3 "$dir/log")" >&2
			return 1
		fi
		sleep 0.1
	done
	note "started $name: fastd pid ${NODE_PID[$name]} in ${NODE_NS[$name]}, UDP port ${NODE_PORT[$name]}, $(vpn4 "$name"), MTU $FASTD_MTU"
}

# ip_frag_creates NS: IPv4 fragments the namespace's stack has made so far
ip_frag_creates() {
	nsx "$1" awk '$1 == "Ip:" { if (!n++) { for (i = 2; i <= NF; i++) if ($i == "FragCreates") f = i } else print $f }' \
		/proc/net/snmp
}

# fastd_check_frames D: a ping of the full inner MTU crosses the tunnel in
# both directions without the outer packets being fragmented
fastd_check_frames() {
	local d=$1 a=${P_A[$1]} b=${P_B[$1]} fa fb
	fa=$(ip_frag_creates "${P_NSA[$d]}")
	fb=$(ip_frag_creates "${P_NSB[$d]}")
	ping_ok "${P_NSA[$d]}" "$(vpn4 "$b")" -M "do" -s $((FASTD_MTU - 28)) ||
		bench_note "pair $d: a ping of the full MTU ($FASTD_MTU bytes) does not cross the tunnel"
	ping_ok "${P_NSB[$d]}" "$(vpn4 "$a")" -M "do" -s $((FASTD_MTU - 28)) ||
		bench_note "pair $d: a ping of the full MTU back from B does not cross the tunnel"
	if [ "$(ip_frag_creates "${P_NSA[$d]}")" != "$fa" ] || [ "$(ip_frag_creates "${P_NSB[$d]}")" != "$fb" ]; then
		bench_note "pair $d: full-size tunnel packets were fragmented; lower BENCH_FASTD_MTU"
	else
		note "pair $d: $FASTD_MTU-byte inner packets cross in $((FASTD_MTU + FASTD_OVERHEAD))-byte outer packets, unfragmented"
	fi
}

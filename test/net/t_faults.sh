#!/bin/bash
# Faults (issue 6): the mesh must heal without an operator and lose no state.
#
#   alpha (fqtinc, namespace A) <- beta (fqtinc, namespace B, ConnectTo alpha)
#   PingInterval = 3, PingTimeout = 2 on both, so dead links are noticed fast
#
# 1. beta is SIGKILLed and restarted: time until A -> B pings work again
# 2. beta's link goes down for 4 s and comes back: time until pings work
# 3. 5 % random loss on the outer path (nft numgen in the router, both
#    directions): a 2 MB transfer arrives intact, the meta connection survives
# 4. beta's outer address changes: time until pings work both ways
# 5. SIGHUP to both daemons, three times, during a 10 MB transfer: it
#    arrives intact and no connection is dropped
# 6. beta restarted with its log file on a full file system: it runs,
#    forwards, and survives HUP and USR2 (log writes fail)
# Recovery times are printed ("# recovery: ...") and bounded.
. "$(dirname "$0")/lib.sh"

RECOVERY_LIMIT=${RECOVERY_LIMIT:-20}

need_daemon "$FQTINC"
setup_test
require_tools nft
topo_pair
make_node "$NS_A" alpha fq PingInterval=3 PingTimeout=2 || finish
make_node "$NS_B" beta fq PingInterval=3 PingTimeout=2 || finish
connect_to beta alpha
exchange_hosts alpha beta
start_node alpha || finish
start_node beta || finish
check_ping "link up" "$NS_A" "$(vpn4 beta)" 20

declare -A RECOVERY
# recovered NAME NS ADDR [START_MS]: poll pings until one is answered;
# records the time since START_MS (default: now).
recovered() {
	local start=${4:-$(now_ms)}
	if wait_for "ping_ok $2 $3" "$RECOVERY_LIMIT"; then
		RECOVERY[$1]=$(ms_to_s $(($(now_ms) - start)))
		pass "$1: pings $2 -> $3 work again after ${RECOVERY[$1]}s"
	else
		RECOVERY[$1]=never
		fail "$1: no ping answered within ${RECOVERY_LIMIT}s"
	fi
}

# ---- 1. SIGKILL and restart
kill_node beta
check "alpha noticed beta's death" wait_for "[ \$(log_count alpha 'Closing the connection with beta') -ge 1 ]" 10
t0=$(now_ms)
start_node beta || finish
recovered "kill+restart" "$NS_A" "$(vpn4 beta)" "$t0"

# ---- 2. link down and up, long enough for both sides to give up the
# connection (PingInterval + PingTimeout < 8 s)
closed_before=$(log_count alpha 'Closing the connection with beta')
activated_before=$(log_count alpha 'Connection with beta .* activated')
ip -n "$NS_R" link set "${NS_RIF[$NS_B]}" down
sleep 8
check_cmp "alpha dropped the dead meta connection" $(( $(log_count alpha 'Closing the connection with beta') - closed_before )) -ge 1
ip -n "$NS_R" link set "${NS_RIF[$NS_B]}" up
t0=$(now_ms)
if wait_for "[ \$(log_count alpha 'Connection with beta .* activated') -gt $activated_before ]" "$RECOVERY_LIMIT"; then
	RECOVERY[link meta]=$(ms_to_s $(($(now_ms) - t0)))
	pass "meta connection re-established after ${RECOVERY[link meta]}s"
else
	RECOVERY[link meta]=never
	fail "meta connection not re-established within ${RECOVERY_LIMIT}s"
fi
recovered "link down 8s/up" "$NS_A" "$(vpn4 beta)" "$t0"

# ---- 3. 5 % random loss on the outer path
wait_for "ping_ok $NS_B $(vpn4 alpha) && ping_ok $NS_A $(vpn4 beta)" 10
closed_before=$(log_count alpha 'Closing the connection with beta')
nsx "$NS_R" nft -f - <<-EOF
	table inet fqtloss {
		chain forward {
			type filter hook forward priority -10; policy accept;
			numgen random mod 100 < 5 counter drop
		}
	}
EOF
XFER_TIMEOUT=40
check "2 MB transfer A -> B intact through 5 % outer loss" transfer loss "$NS_A" "$NS_B" "$(vpn4 beta)" $((2 * MB))
dropped=$(nsx "$NS_R" nft list table inet fqtloss | grep -o -E 'packets [0-9]+' | grep -o -E '[0-9]+')
note "the router dropped ${dropped:-0} outer packets"
check_cmp "the loss rule really dropped packets" "${dropped:-0}" -gt 0
nsx "$NS_R" nft delete table inet fqtloss
check_eq "the meta connection survived the loss" 0 $(( $(log_count alpha 'Closing the connection with beta') - closed_before ))

# ---- 4. beta's outer address changes
nsx "$NS_B" sysctl -qw net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.eth0.promote_secondaries=1
ip -n "$NS_B" addr add 10.1.2.3/24 dev eth0
ip -n "$NS_B" addr del 10.1.2.2/24 dev eth0
ip -n "$NS_B" route replace default via 10.1.2.1
t0=$(now_ms)
recovered "address change B->A" "$NS_B" "$(vpn4 alpha)" "$t0"
recovered "address change A->B" "$NS_A" "$(vpn4 beta)" "$t0"
# The old TCP connection is dead; beta reconnects from its new address.
if wait_for "[ \$(log_count alpha 'Connection with beta \(10\.1\.2\.3 port [0-9]*\) activated') -ge 1 ]" "$RECOVERY_LIMIT"; then
	RECOVERY[meta after address change]=$(ms_to_s $(($(now_ms) - t0)))
	pass "meta connection re-established from the new address after ${RECOVERY[meta after address change]}s"
else
	RECOVERY[meta after address change]=never
	fail "meta connection not re-established from the new address within ${RECOVERY_LIMIT}s"
fi
recovered "after reconnect A->B" "$NS_A" "$(vpn4 beta)"

# ---- 5. SIGHUP under traffic
closed_before=$(log_count alpha 'Closing the connection with beta')$(log_count beta 'Closing the connection with alpha')
XFER_TIMEOUT=60
# paced at 5 MB/s so that the reloads happen in the middle of it
transfer_start hup "$NS_A" "$NS_B" "$(vpn4 beta)" 5002 $((10 * MB)) --rate 5000000
for i in 1 2 3; do
	sleep 0.4
	kill -HUP "${NODE_PID[alpha]}" "${NODE_PID[beta]}"
done
check "10 MB transfer intact across three SIGHUPs" transfer_wait hup
check_eq "both daemons re-read their configuration 3 times" "3 3" "$(log_count alpha 'Signal HUP') $(log_count beta 'Signal HUP')"
check_eq "no connection dropped by the reloads" "$closed_before" "$(log_count alpha 'Closing the connection with beta')$(log_count beta 'Closing the connection with alpha')"
check "both daemons still running" eval "node_alive alpha && node_alive beta"

# ---- 6. disk full: beta restarted with its log file on a full file system
# (a tmpfs mounted by a wrapper inside ip netns exec's private mount
# namespace, so it vanishes with the daemon)
stop_node beta
cat >"$TMP/fullfs-tincd" <<EOF2
#!/bin/sh
mkdir -p "$TMP/full" && mount -t tmpfs -o size=16k fqtfull "$TMP/full" || exit 99
dd if=/dev/zero of="$TMP/full/filler" bs=4k count=16 2>/dev/null
exec "$FQTINC" "\$@"
EOF2
chmod 755 "$TMP/fullfs-tincd"
NODE_DAEMON[beta]=$TMP/fullfs-tincd
t0=$(now_ms)
start_node beta --logfile="$TMP/full/beta.log" || finish
recovered "restart with a full log disk" "$NS_A" "$(vpn4 beta)" "$t0"
avail=$(nsenter -t "${NODE_PID[beta]}" -m -- df -k "$TMP/full" 2>/dev/null | awk 'NR == 2 { print $4 }')
check_eq "beta's log file system is full (kB available)" 0 "${avail:-unknown}"
kill -HUP "${NODE_PID[beta]}"
kill -USR2 "${NODE_PID[beta]}"
check "pings keep working while logging fails" ping_ok "$NS_A" "$(vpn4 beta)"
check "beta survives a full log disk, HUP and USR2" node_alive beta

note "recovery: kill+restart ${RECOVERY[kill+restart]}s, link down 8s/up: meta ${RECOVERY[link meta]}s, data ${RECOVERY[link down 8s/up]}s (after the link came back), address change: data ${RECOVERY[address change B->A]}s / ${RECOVERY[address change A->B]}s, meta ${RECOVERY[meta after address change]}s"
finish

#!/bin/bash
# Transport options of fqtinc (alpha), checked on its sockets and against a
# tinc 1.0.36 peer (beta):
#
#   AddressFamily ipv4 / ipv6 / any    which listeners exist (ss)
#   BindToAddress ADDR, "* PORT"       listeners on that address / wildcard with a port
#   BindToAddress, outgoing            the meta connection to beta leaves from it
#   BindToInterface                    listeners bound to the device (ss "%eth0")
#   Port = 0                           one kernel-chosen port for TCP and UDP of
#                                      both families, announced to the peer
#   UDPRcvBuf / UDPSndBuf              SO_RCVBUF / SO_SNDBUF of the UDP sockets
#   ProcessPriority = low              nice 10
#   IffOneQueue = yes                  accepted, no warning
#   Address list + DNS names + retry   a failing name, an unreachable address and
#                                      a name resolving to the wrong address are
#                                      tried in order; the name is resolved again
#                                      at the retry, which succeeds
#   MaxTimeout = 3                     retries every 3 s, not 5, 10, ...
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

setup_interop_test

topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta tinc || finish
exchange_hosts alpha beta
APORT=${NODE_PORT[alpha]}

# /etc/netns/NS/{hosts,resolv.conf} replace /etc/... for processes started by
# `ip netns exec NS` (the daemon): names resolve from our table, DNS fails fast.
NETNS_ETC=/etc/netns/$NS_A
mkdir -p "$NETNS_ETC"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$NETNS_ETC/resolv.conf"
printf '127.0.0.1 localhost\n10.1.9.8 betahost\n' >"$NETNS_ETC/hosts"
eval "lib_cleanup() $(declare -f cleanup | tail -n +2)"
cleanup() {
	local rc=$?
	rm -rf "$NETNS_ETC"
	rmdir /etc/netns 2>/dev/null # only if no other test uses it
	(exit "$rc")
	lib_cleanup
}

# sockets SPEC: "PROTO LOCAL" lines of alpha's listening sockets
sockets() {
	nsx "$NS_A" ss -Hlntu 2>/dev/null | awk '{print $1, $5}' | sort
}
# restart alpha with the given options replacing its socket options
with_options() {
	stop_node alpha
	node_unset alpha AddressFamily
	node_unset alpha BindToAddress
	node_unset alpha BindToInterface
	node_unset alpha UDPRcvBuf
	node_unset alpha UDPSndBuf
	node_unset alpha Port
	node_unset alpha ProcessPriority
	node_unset alpha IffOneQueue
	local o
	for o in "$@"; do node_opt alpha "conf:$o"; done
	grep -q '^Port' "${NODE_DIR[alpha]}/tinc.conf" || node_opt alpha "conf:Port=$APORT"
	start_node alpha
}

# ---- listeners
with_options AddressFamily=ipv4 || finish
check_eq "AddressFamily = ipv4: IPv4 listeners only" "tcp 0.0.0.0:$APORT
udp 0.0.0.0:$APORT" "$(sockets)"
with_options AddressFamily=ipv6 || finish
check_eq "AddressFamily = ipv6: IPv6 listeners only" "tcp [::]:$APORT
udp [::]:$APORT" "$(sockets)"
with_options AddressFamily=any || finish
check_eq "AddressFamily = any: both families" "tcp 0.0.0.0:$APORT
tcp [::]:$APORT
udp 0.0.0.0:$APORT
udp [::]:$APORT" "$(sockets)"
with_options AddressFamily=any "BindToAddress=$(outer4 alpha)" "BindToAddress=* 6699" || finish
check_eq "BindToAddress ADDR and '* PORT'" "tcp 0.0.0.0:6699
tcp $(outer4 alpha):$APORT
tcp [::]:6699
udp 0.0.0.0:6699
udp $(outer4 alpha):$APORT
udp [::]:6699" "$(sockets)"
with_options AddressFamily=ipv4 BindToInterface=eth0 || finish
check_eq "BindToInterface = eth0" "tcp 0.0.0.0%eth0:$APORT
udp 0.0.0.0%eth0:$APORT" "$(sockets)"

with_options AddressFamily=ipv4 UDPRcvBuf=100000 UDPSndBuf=150000 ProcessPriority=low IffOneQueue=yes || finish
mem=$(nsx "$NS_A" ss -Hlunm "sport = :$APORT" | grep -o 'skmem:([^)]*)')
note "UDP socket: $mem"
check_eq "UDPRcvBuf = 100000 (the kernel doubles it)" 200000 "$(echo "$mem" | grep -o 'rb[0-9]*' | tr -d rb)"
check_eq "UDPSndBuf = 150000" 300000 "$(echo "$mem" | grep -o 'tb[0-9]*' | tr -d tb)"
check_eq "ProcessPriority = low: nice 10" 10 "$(ps -o ni= -p "${NODE_PID[alpha]}" | tr -d ' ')"
check_eq "IffOneQueue accepted without a warning" 0 "$(log_count alpha 'IffOneQueue is not implemented')"

# ---- outgoing connection from the BindToAddress address
ip -n "$NS_A" addr add 10.1.1.3/24 dev eth0
start_node beta || finish
connect_to alpha beta
with_options AddressFamily=ipv4 BindToAddress=10.1.1.3 || finish
check_ping "BindToAddress 10.1.1.3: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 15
check "beta saw the meta connection come from 10.1.1.3" grep -q 'Connection from 10.1.1.3 port' "${NODE_DIR[beta]}/log"

with_options AddressFamily=any || finish
stop_node alpha
node_unset alpha Port
node_opt alpha conf:Port=0
# start_node waits for the usual port; wait for "Ready" here instead
echo "===== start $(date +%T.%N) fqtinc Port=0" >>"${NODE_DIR[alpha]}/log"
ip netns exec "$NS_A" "$FQTINC" -c "${NODE_DIR[alpha]}" -D -d4 --pidfile="${NODE_DIR[alpha]}/pid" \
	</dev/null >>"${NODE_DIR[alpha]}/log" 2>&1 &
NODE_PID[alpha]=$!
if wait_for "[ \$(sockets | wc -l) -eq 4 ]" 10; then
	ports=$(sockets | sed 's/.*://' | sort -u)
	check_eq "Port = 0: TCP and UDP of both families share one kernel-chosen port" 1 "$(echo "$ports" | wc -l)"
	check_cmp "... which is not 0" "$ports" -gt 0
	check "... and is logged" grep -q "Port 0: listening on port $ports" "${NODE_DIR[alpha]}/log"
	check_ping "Port = 0: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 15
	check "Port = 0: the ACK to beta announces port $ports" \
		grep -q -E "Sending ACK to beta .*: 4 $ports " "${NODE_DIR[alpha]}/log"
else
	fail "Port = 0: alpha did not open 4 sockets: $(sockets | tr '\n' ' ')"
fi
stop_node alpha
node_set alpha "conf:Port=$APORT"

# ---- Address list, DNS names, retry, MaxTimeout
sed -i '/^Address/d' "${NODE_DIR[alpha]}/hosts/beta"
cat >>"${NODE_DIR[alpha]}/hosts/beta" <<EOF
Address = nosuchhost.invalid ${NODE_PORT[beta]}
Address = 10.1.9.9 ${NODE_PORT[beta]}
Address = betahost ${NODE_PORT[beta]}
EOF
stop_node alpha
node_opt alpha conf:MaxTimeout=3
mark=$(wc -l <"${NODE_DIR[alpha]}/log")
start_node alpha || finish
log_after() { tail -n +$((mark + 1)) "${NODE_DIR[alpha]}/log"; }
check "the failing name is reported" wait_for "log_after | grep -q 'Cannot resolve nosuchhost.invalid'" 10
check "the unreachable address is tried" wait_for "log_after | grep -q 'Connecting to beta (10.1.9.9 port'" 5
check "the name betahost is resolved (to the wrong address at first) and tried" \
	wait_for "log_after | grep -q 'Connecting to beta (10.1.9.8 port'" 10
check "MaxTimeout = 3 caps the back-off" wait_for "log_after | grep -q 'connect to beta again in 3 s'" 10
check_eq "... and no longer delay is ever used" 0 "$(log_after | grep -c -E 'connect to beta again in ([4-9]|[0-9]{2,}) s')"
printf '127.0.0.1 localhost\n%s betahost\n' "$(outer4 beta)" >"$NETNS_ETC/hosts"
fixed=$(now_ms)
check_ping "betahost fixed in the hosts table: the retry resolves it again and connects" "$NS_A" "$(vpn4 beta)" 15
note "connected $(ms_to_s $(($(now_ms) - fixed)))s after the fix"
check "... to the new address" grep -q "Connecting to beta ($(outer4 beta) port" "${NODE_DIR[alpha]}/log"

for n in alpha beta; do check "$n still running" node_alive "$n"; done
finish

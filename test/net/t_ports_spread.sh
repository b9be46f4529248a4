#!/bin/bash
# Flows apart on the path (UDPPorts, doc/protocol.md §10.3): who sends from
# how many outer UDP source ports.
#
#   alpha (fq) --ConnectTo--> beta (fq)     many ports: each inner flow its own
#   alpha      --ConnectTo--> gamma (tinc)  one port: tinc 1.0.36 did not announce
#   delta (fq, IndirectData) --ConnectTo--> gamma
#                                            alpha reaches delta only through the
#                                            relay gamma: one port, nothing direct
#   eps (fq) behind a NAT router (nft masquerade) --ConnectTo--> alpha
#                                            many NAT-mapped ports from eps; the NAT
#                                            lets in only what comes from alpha's own
#                                            port, so alpha's port probes fail and
#                                            alpha sends from one port; pings and a
#                                            TCP transfer both ways; alpha keeps
#                                            answering eps's own mapped port
#
# Ports are counted in captures on the router (distinct source ports of the
# datagrams between two nodes' addresses) and in fqtinc's USR2 dump ("ports N"
# per node). Every inner flow here is a ping with its own ICMP identifier.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ecnlib.sh"

FLOWS=${FLOWS:-16}
need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools tcpdump nft
setup_test

NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_C=$NS_PREFIX-c NS_D=$NS_PREFIX-d NS_N=$NS_PREFIX-n NS_R=$NS_PREFIX-r
topo_star "$NS_R" "$NS_A" "$NS_B" "$NS_C" "$NS_D" "$NS_N"
# captures on the router and the NAT count datagrams (nic_links)
nic_links "$NS_A" "$NS_B" "$NS_C" "$NS_D" || skip "cannot limit GSO on the links"
quiet_ipv6 "$NS_A" "$NS_B" "$NS_C" "$NS_D"

# The NAT: NS_N is a router with the star's address 10.1.5.2 outside and
# 192.168.77.1/24 inside, masquerading what eps (192.168.77.2) sends out.
NS_E=$NS_PREFIX-e
ns_create "$NS_E"
ip link add name eth0 netns "$NS_E" type veth peer name inside netns "$NS_N" || exit 99
ip -n "$NS_N" addr add 192.168.77.1/24 dev inside
ip -n "$NS_N" link set inside up
ip -n "$NS_E" addr add 192.168.77.2/24 dev eth0
ip -n "$NS_E" link set eth0 up
ip -n "$NS_E" route add default via 192.168.77.1
nic_links "$NS_E" || skip "cannot limit GSO on the links"
nsx "$NS_N" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
# UDP mappings forgotten after 5 s without a packet (the last part needs it;
# traffic never pauses that long before)
nsx "$NS_N" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=5 net.netfilter.nf_conntrack_udp_timeout_stream=5 >/dev/null
nsx "$NS_N" nft -f - <<-EOF || exit 99
	table ip fqtnat {
		chain post { type nat hook postrouting priority srcnat; policy accept; oifname "eth0" masquerade random; }
	}
EOF
NS_ADDR4[$NS_E]=192.168.77.2
NAT_ADDR=${NS_ADDR4[$NS_N]}

make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
make_node "$NS_C" gamma tinc || finish
make_node "$NS_D" delta fq IndirectData=yes || finish
make_node "$NS_E" eps fq || finish
connect_to alpha beta
connect_to alpha gamma
connect_to delta gamma
connect_to eps alpha
exchange_hosts alpha beta gamma delta eps
# Bad values are refused at start, with the option and the range named.
for bad in 0 257 many; do
	out=$(timeout 10 ip netns exec "$NS_A" "$FQTINC" -c "${NODE_DIR[alpha]}" -D -d0 -o "UDPPorts=$bad" --pidfile="$TMP/bad.pid" 2>&1 </dev/null)
	rc=$?
	check "UDPPorts = $bad refused (exit $rc)" [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
	note "UDPPorts = $bad: $(echo "$out" | grep -i -m1 'UDPPorts')"
done
for n in alpha beta gamma delta eps; do start_node "$n" || finish; done

check_ping "alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
check_ping "alpha -> gamma" "$NS_A" "$(vpn4 gamma)" 20
check_ping "alpha -> delta (through gamma)" "$NS_A" "$(vpn4 delta)" 20
check_ping "eps (behind NAT) -> alpha" "$NS_E" "$(vpn4 alpha)" 20
check_ping "alpha -> eps (behind NAT)" "$NS_A" "$(vpn4 eps)" 20
# Spreading starts once the peer answered a PMTU probe from our own port.
for peer in beta gamma eps; do
	wait_minmtu alpha "$peer" 1000 30 || note "alpha: PMTU toward $peer not confirmed yet"
done
wait_minmtu eps alpha 1000 30 || note "eps: PMTU toward alpha not confirmed yet"

# pings NS ADDR: FLOWS concurrent pings (each its own ICMP identifier, so
# its own inner flow), 5 echo requests each
pings() {
	local i pids=()
	for ((i = 0; i < FLOWS; i++)); do
		nsx "$1" ping -n -q -c5 -i0.05 -W1 "$2" >"$TMP/pings.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$TMP"/pings.* | awk '/packets transmitted/ { r += $4 } END { print r + 0 }'
}

# src_ports TAG SRC DST DPORT: distinct source ports of UDP from SRC to DST:DPORT
src_ports() {
	pcap_flows "$1" | awk -v s="$2" -v d="$3" -v dp="$4" \
		'$1 == "udp" && $2 == s && $3 == d && $4 == dp { seen[$5] = 1 } END { print length(seen) }'
}

capture_start "$NS_R" "${NS_RIF[$NS_B]}" beta udp || finish
capture_start "$NS_R" "${NS_RIF[$NS_C]}" gamma udp || finish
capture_start "$NS_R" "${NS_RIF[$NS_D]}" delta udp || finish
capture_start "$NS_R" "${NS_RIF[$NS_N]}" nat udp || finish
check_eq "all pings alpha -> beta answered" $((FLOWS * 5)) "$(pings "$NS_A" "$(vpn4 beta)")"
check_eq "all pings alpha -> gamma answered" $((FLOWS * 5)) "$(pings "$NS_A" "$(vpn4 gamma)")"
check_eq "all pings alpha -> delta answered" $((FLOWS * 5)) "$(pings "$NS_A" "$(vpn4 delta)")"
check_eq "all pings eps -> alpha answered" $((FLOWS * 5)) "$(pings "$NS_E" "$(vpn4 alpha)")"
check_eq "all pings alpha -> eps answered" $((FLOWS * 5)) "$(pings "$NS_A" "$(vpn4 eps)")"
check "TCP through the NAT: eps -> alpha" transfer nat1 "$NS_E" "$NS_A" "$(vpn4 alpha)" $((2 * MB))
check "TCP through the NAT: alpha -> eps" transfer nat2 "$NS_A" "$NS_E" "$(vpn4 eps)" $((2 * MB))
for tag in beta gamma delta nat; do capture_stop "$tag"; done

A4=$(outer4 alpha) B4=$(outer4 beta) C4=$(outer4 gamma) D4=$(outer4 delta)
ab=$(src_ports beta "$A4" "$B4" "${NODE_PORT[beta]}")
ba=$(src_ports beta "$B4" "$A4" "${NODE_PORT[alpha]}")
ac=$(src_ports gamma "$A4" "$C4" "${NODE_PORT[gamma]}")
ca=$(src_ports gamma "$C4" "$A4" "${NODE_PORT[alpha]}")
ad=$(pcap_sum delta udp "$A4" "$D4")
ea=$(src_ports nat "$NAT_ADDR" "$A4" "${NODE_PORT[alpha]}")
note "source ports: alpha->beta $ab, beta->alpha $ba, alpha->gamma $ac, gamma->alpha $ca, eps(NAT)->alpha $ea; alpha->delta direct: ${ad% *} datagrams"
# 16 flows over 64 ports: 12 or more distinct ports nearly always (10 in
# the worst 1 in 10^4 case); the threshold leaves room
check_cmp "fqtinc -> fqtinc spreads its flows (alpha -> beta ports)" "$ab" -ge 6
check_cmp "fqtinc -> fqtinc spreads its flows (beta -> alpha ports, the replies)" "$ba" -ge 6
check_eq "fqtinc -> tinc 1.0.36 uses one port" 1 "$ac"
check_eq "tinc 1.0.36 -> fqtinc uses one port" 1 "$ca"
check_eq "no datagram from alpha straight to delta (relayed)" 0 "${ad% *}"
check_cmp "behind the NAT too (eps -> alpha ports)" "$ea" -ge 6

# The daemons' own count, and where alpha and beta send to: their peers' own ports.
usr2_dump alpha || fail "alpha USR2 dump"
usr2_dump beta || fail "beta USR2 dump"
usr2_dump eps || fail "eps USR2 dump"
check_cmp "alpha's dump: ports toward beta" "$(dump_node_field alpha beta ports)" -ge 6
check_eq "alpha's dump: ports toward gamma" 1 "$(dump_node_field alpha gamma ports)"
check_cmp "eps's dump: ports toward alpha" "$(dump_node_field eps alpha ports)" -ge 6
check_eq "beta still sends to alpha's own port" "${NODE_PORT[alpha]}" "$(dump_node_field beta alpha port)"
check_eq "alpha still sends to beta's own port" "${NODE_PORT[beta]}" "$(dump_node_field alpha beta port)"
# eps's address at alpha is the NAT's mapping of eps's own port: the one
# alpha's datagrams to eps go to (captured on the NAT's outside link)
eps_port=$(dump_node_field alpha eps port)
# (besides one probe to each new source of eps: the NAT's mappings of eps's
# extra ports, which the NAT drops)
read -r top_port top_share <<<"$(pcap_flows nat | awk -v s="$A4" -v d="$NAT_ADDR" '
	$1 == "udp" && $2 == s && $3 == d { n[$4] += $6; all += $6 }
	END { for (p in n) if (n[p] > best) { best = n[p]; bp = p }; printf "%s %d\n", bp, all ? 100 * best / all : 0 }')"
note "alpha sends to eps at $NAT_ADDR port $eps_port; $top_share % of its datagrams to the NAT went to port $top_port"
check_eq "alpha's datagrams to eps go to eps's own mapped port" "$eps_port" "$top_port"
check_cmp "... nearly all of them (%)" "$top_share" -ge 90
# The NAT drops what alpha's extra ports send to eps's mapping (its filter
# knows alpha's own port only): the port probes find that, alpha keeps to
# its own port toward eps, and eps's extra ports (outbound) work.
check_eq "alpha's dump: ports toward eps (the NAT filters the others)" 1 "$(dump_node_field alpha eps ports)"
check "no datagram was dropped as from an unknown sender" [ "$(log_count alpha 'no node.s address and no node.s key')" = 0 ]

# The NAT forgets eps's mappings (UDP blocked before connection tracking
# until they time out; "masquerade random" then maps every port anew). eps's
# first datagrams come from new ports, its own among them, and only a probe
# from its own port may move eps's address at alpha: alpha's probe to each
# new source (answered only by eps's own port) must find it within seconds,
# not at eps's next PMTU probe a minute later.
nsx "$NS_N" nft -f - <<-EOF
	table ip fqtblock {
		chain pre { type filter hook prerouting priority -300; policy accept; udp dport { ${NODE_PORT[alpha]}, ${NODE_PORT[eps]} } drop; udp sport ${NODE_PORT[alpha]} drop; }
	}
EOF
sleep 7
nsx "$NS_N" nft delete table ip fqtblock
old_port=$eps_port
check "after the NAT's new mapping: eps -> alpha" wait_for "ping_ok $NS_E $(vpn4 alpha)" 10
check "after the NAT's new mapping: alpha -> eps within 5 s" wait_for "ping_ok $NS_A $(vpn4 eps)" 5
usr2_dump alpha || fail "alpha USR2 dump"
note "alpha sends to eps at port $(dump_node_field alpha eps port) (was $old_port)"
check "alpha follows eps's own port to its new mapping" [ "$(dump_node_field alpha eps port)" != "$old_port" ]
check_eq "beta still sends to alpha's own port" "${NODE_PORT[alpha]}" "$(dump_node_field beta alpha port)"
finish

#!/bin/bash
# LocalDiscovery (protocol.md §5.11): alpha (fqtinc) and beta (tinc 1.0.36) sit on
# one LAN behind a NAT and know each other only through gamma outside:
#
#   alpha 192.168.5.2 --+
#                       br0 [nat: 192.168.5.1 | masquerade | 10.2.0.1] -- gamma 10.2.0.2
#   beta  192.168.5.3 --+
#
# Both have ConnectTo gamma.  The addresses they learn for each other are the
# NAT's, which do not work between them (no hairpinning), so their packets go
# through gamma.  With LocalDiscovery, probes broadcast on the LAN let them
# find each other's LAN address and talk directly.  A capture on br0 counts
# the UDP datagrams between the two LAN addresses.
#
# 1. LocalDiscovery nowhere: no direct UDP between alpha and beta.
# 2. On alpha only: alpha broadcasts probes (seen on br0), beta (tinc)
#    recognises them, and alpha <-> beta traffic goes direct, both ways.
# 3. On beta only: fqtinc recognises tinc's broadcast probes; direct again.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools tcpdump nft
setup_test

NS_N=$NS_PREFIX-nat NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_G=$NS_PREFIX-g
for ns in "$NS_N" "$NS_A" "$NS_B" "$NS_G"; do ns_create "$ns"; done
nsx "$NS_N" sysctl -qw net.ipv4.ip_forward=1
ip -n "$NS_N" link add br0 type bridge
ip -n "$NS_N" addr add 192.168.5.1/24 dev br0
ip -n "$NS_N" link set br0 up
lan_host() { # NS ADDR PORTNAME
	ip link add name eth0 netns "$1" type veth peer name "$3" netns "$NS_N" || exit 99
	ip -n "$NS_N" link set "$3" master br0 up
	ip -n "$1" addr add "$2/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" route add default via 192.168.5.1
	NS_ADDR4[$1]=$2
}
lan_host "$NS_A" 192.168.5.2 la
lan_host "$NS_B" 192.168.5.3 lb
ip link add name eth0 netns "$NS_G" type veth peer name wan netns "$NS_N" || exit 99
ip -n "$NS_N" addr add 10.2.0.1/24 dev wan
ip -n "$NS_N" link set wan up
ip -n "$NS_G" addr add 10.2.0.2/24 dev eth0
ip -n "$NS_G" link set eth0 up
ip -n "$NS_G" route add default via 10.2.0.1
NS_ADDR4[$NS_G]=10.2.0.2
nsx "$NS_N" nft -f - <<'EOF'
table ip lantest {
	chain post {
		type nat hook postrouting priority 100; policy accept;
		oifname "wan" masquerade
	}
}
EOF

make_node "$NS_A" alpha fq PingInterval=10 || finish
make_node "$NS_B" beta tinc PingInterval=10 || finish
make_node "$NS_G" gamma fq || finish
connect_to alpha gamma
connect_to beta gamma
exchange_hosts alpha gamma
exchange_hosts beta gamma
start_node gamma || finish
A=192.168.5.2 B=192.168.5.3

lan_count() { # TAG SRC DST: UDP datagrams SRC -> DST in the capture
	pcap_sum "$1" udp "$2" "$3" | awk '{print $1}'
}
direct_both_ways() { # TAG
	ping_ok "$NS_A" "$(vpn4 beta)"
	ping_ok "$NS_B" "$(vpn4 alpha)"
	[ "$(lan_count "$1" $A $B)" -gt 0 ] && [ "$(lan_count "$1" $B $A)" -gt 0 ]
}

# phase TAG LD_ALPHA LD_BETA
phase() {
	local tag=$1
	stop_node alpha
	stop_node beta
	node_set alpha "LocalDiscovery=$2"
	node_set beta "LocalDiscovery=$3"
	capture_start "$NS_N" br0 "$tag" udp || return 1
	# beta (tinc 1.0.36) restarted within the second of its last start
	# repeats that instance's ADD_EDGE word for word; gamma drops it as
	# already seen and beta stays unreachable for good (see lib.sh).
	start_node alpha && wait_next_second beta && start_node beta || return 1
	check_ping "$tag: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
	check_ping "$tag: ping beta -> alpha" "$NS_B" "$(vpn4 alpha)" 10
}

phase none no no || finish
# give discovery every chance to (wrongly) happen: 8 s of pings
nsx "$NS_A" ping -n -q -c 16 -i 0.5 -W 1 "$(vpn4 beta)" >/dev/null 2>&1
capture_stop none
check_eq "LocalDiscovery off: no direct UDP alpha -> beta on the LAN" 0 "$(lan_count none $A $B)"
check_eq "LocalDiscovery off: no direct UDP beta -> alpha on the LAN" 0 "$(lan_count none $B $A)"

phase alpha yes no || finish
if wait_for "direct_both_ways alpha" 20; then
	pass "LocalDiscovery on alpha (fqtinc): direct UDP both ways after ${WAITED}s"
else
	fail "LocalDiscovery on alpha (fqtinc): no direct UDP both ways within 20 s ($(lan_count alpha $A $B) / $(lan_count alpha $B $A))"
fi
capture_stop alpha
bcast=$(pcap_flows alpha | awk -v a=$A '$1 == "udp" && $2 == a && $3 == "255.255.255.255" { n += $6 } END { print n + 0 }')
check_cmp "alpha broadcast its local discovery probes" "$bcast" -gt 0

phase beta no yes || finish
if wait_for "direct_both_ways beta" 20; then
	pass "LocalDiscovery on beta (tinc): fqtinc recognised its probes, direct UDP both ways after ${WAITED}s"
else
	fail "LocalDiscovery on beta (tinc): no direct UDP both ways within 20 s ($(lan_count beta $A $B) / $(lan_count beta $B $A))"
fi
capture_stop beta
bcast=$(pcap_flows beta | awk -v a=$A '$1 == "udp" && $2 == a && $3 == "255.255.255.255" { n += $6 } END { print n + 0 }')
check_eq "alpha (LocalDiscovery off) sent no broadcasts" 0 "$bcast"

for n in alpha beta gamma; do check "$n still running" node_alive "$n"; done
finish

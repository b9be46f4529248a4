# test/net/fqgw.sh -- an emulated flow-queueing gateway, shared by
# test/net/t_fq_gateway.sh and bench/run (scenario fqgw).  Sourced after
# lib.sh.
#
# This kernel has neither fq_codel nor sfq, so the gateway is built from
# what it has: an htb of RATE whose leaves are FQGW_BUCKETS classes of equal
# share (deficit round robin among the busy ones, one MTU quantum each), each
# with its own small pfifo, and a u32 hash filter that sends every IPv4 UDP
# packet to the leaf of the low byte of its source port -- what a
# flow-queueing gateway does with a tunnel's outer packets, which all go to
# the same destination port.  Everything else (the meta connections' TCP)
# goes to one more leaf.  Like fq_codel's flows, a bucket that many flows
# share is one FIFO for all of them.

FQGW_BUCKETS=${FQGW_BUCKETS:-256} # u32 hash tables have at most 256 buckets
FQGW_LIMIT=${FQGW_LIMIT:-100}     # packets per bucket: 60 ms at 20 Mbit/s

# fqgw_setup NS DEV RATE: make DEV's egress in NS such a gateway
fqgw_setup() {
	local ns=$1 dev=$2 rate=$3 i hex batch
	batch=$(mktemp "${TMP:-/tmp}/fqgw.XXXXXX") || return 1
	{
		echo "qdisc add dev $dev root handle 1: htb default 2"
		echo "class add dev $dev parent 1: classid 1:1 htb rate $rate quantum 1514"
		echo "class add dev $dev parent 1:1 classid 1:2 htb rate 8kbit ceil $rate quantum 1514"
		echo "qdisc add dev $dev parent 1:2 pfifo limit $FQGW_LIMIT"
		for ((i = 0; i < FQGW_BUCKETS; i++)); do
			hex=$(printf '%x' $((0x100 + i)))
			echo "class add dev $dev parent 1:1 classid 1:$hex htb rate 8kbit ceil $rate quantum 1514"
			echo "qdisc add dev $dev parent 1:$hex pfifo limit $FQGW_LIMIT"
		done
		echo "filter add dev $dev parent 1: prio 1 handle 2: protocol ip u32 divisor $FQGW_BUCKETS"
		# the UDP source port is the upper half of the word at offset 20
		# (an IPv4 header without options); its low byte picks the bucket
		echo "filter add dev $dev parent 1: prio 1 protocol ip u32 ht 800:: match ip protocol 17 0xff hashkey mask 0x00ff0000 at 20 link 2:"
		for ((i = 0; i < FQGW_BUCKETS; i++)); do
			echo "filter add dev $dev parent 1: prio 1 protocol ip u32 ht 2:$(printf '%x' "$i"): match u32 0 0 flowid 1:$(printf '%x' $((0x100 + i)))"
		done
	} >"$batch"
	ip netns exec "$ns" tc -batch "$batch"
	local rc=$?
	rm -f "$batch"
	return $rc
}

fqgw_teardown() {
	ip netns exec "$1" tc qdisc del dev "$2" root 2>/dev/null
}

# fqgw_snapshot NS DEV: "CLASSID BYTES" of every bucket leaf
fqgw_snapshot() {
	ip netns exec "$1" tc -s class show dev "$2" | awk '
		/^class htb 1:1[0-9a-f][0-9a-f] / { leaf = $3; next }
		/^class / { leaf = "" }
		leaf != "" && /Sent/ { print leaf, $2; leaf = "" }'
}

# fqgw_busy_since FILE NS DEV: how many bucket leaves sent anything since
# the snapshot in FILE (a tunnel on one port fills one; spread flows several)
fqgw_busy_since() {
	fqgw_snapshot "$2" "$3" | awk -v before="$1" '
		BEGIN { while ((getline line < before) > 0) { split(line, f, " "); b[f[1]] = f[2] } }
		$2 > b[$1] + 0 { n++ }
		END { print n + 0 }'
}

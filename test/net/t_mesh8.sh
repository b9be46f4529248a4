#!/bin/bash
# A mesh of 8 nodes, fqtinc and tinc 1.0.36 mixed, on a random but seeded
# ConnectTo graph (a random spanning tree plus a few extra links, so it is
# connected).  Router mode, tun devices.
#
# 1. Every ordered pair pings (one job per source node, in parallel).
# 2. A node is killed (SIGKILL): within PingTimeout every other node answers
#    a ping to it with "Destination Net Unreachable" (its subnets lost their
#    reachable owner everywhere) or "Net Unknown" (they are gone).
#    Another node is frozen (SIGSTOP, sockets stay open): it must become
#    unreachable everywhere within PingInterval + 3 x PingTimeout (+2 s,
#    see below).
# 3. The killed node is restarted, the frozen one continued (and every
#    daemon gets ALRM, so back-offs end): all pairs ping again.
# 4. No flooding loop: after convergence the number of ADD_EDGE requests each
#    node has received stays put during a quiet period, and the totals stay
#    under a bound derived from the graph.
#
#   MESH_SEED   seed of the graph and of the daemon mix (default 17)
#   MESH_MIX    "random" (default), or a string of f/t per node ("ftftftft")
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

MESH_SEED=${MESH_SEED:-17}
MESH_MIX=${MESH_MIX:-random}
N=8
PINGINTERVAL=8
PINGTIMEOUT=4
need_daemon "$FQTINC"
need_daemon "$TINC"
setup_test

RANDOM=$MESH_SEED
NAMES=(n1 n2 n3 n4 n5 n6 n7 n8)
hosts=()
for i in $(seq 1 $N); do hosts+=("$NS_PREFIX-h$i"); done
topo_star "$NS_PREFIX-r" "${hosts[@]}"

# daemon mix: at least two of each
kinds=()
if [ "$MESH_MIX" = random ]; then
	while :; do
		kinds=()
		nf=0
		for i in $(seq 0 $((N - 1))); do
			if [ $((RANDOM % 2)) = 0 ]; then kinds+=(fq); nf=$((nf + 1)); else kinds+=(tinc); fi
		done
		[ "$nf" -ge 2 ] && [ "$nf" -le $((N - 2)) ] && break
	done
else
	for i in $(seq 0 $((N - 1))); do
		[ "${MESH_MIX:$i:1}" = t ] && kinds+=(tinc) || kinds+=(fq)
	done
fi

for i in $(seq 0 $((N - 1))); do
	make_node "${hosts[$i]}" "${NAMES[$i]}" "${kinds[$i]}" PingInterval=$PINGINTERVAL PingTimeout=$PINGTIMEOUT || finish
done

# the graph: node i (i >= 1) connects to a random earlier node, then 3 extra
# links between random distinct pairs not yet linked
declare -A LINK
links=()
add_link() {
	local a=$1 b=$2
	[ "$a" = "$b" ] && return 1
	[ -n "${LINK[$a,$b]:-}${LINK[$b,$a]:-}" ] && return 1
	LINK[$a,$b]=1
	links+=("$a $b")
	connect_to "${NAMES[$a]}" "${NAMES[$b]}"
}
for i in $(seq 1 $((N - 1))); do add_link "$i" $((RANDOM % i)); done
extra=0
while [ "$extra" -lt 3 ]; do
	add_link $((RANDOM % N)) $((RANDOM % N)) && extra=$((extra + 1))
done
exchange_hosts "${NAMES[@]}"
declare -A DEG
for l in "${links[@]}"; do
	read -r a b <<<"$l"
	DEG[$a]=$((${DEG[$a]:-0} + 1))
	DEG[$b]=$((${DEG[$b]:-0} + 1))
done
desc=""
for l in "${links[@]}"; do read -r a b <<<"$l"; desc+=" ${NAMES[$a]}->${NAMES[$b]}"; done
note "seed $MESH_SEED; daemons: $(for i in $(seq 0 $((N - 1))); do printf '%s=%s ' "${NAMES[$i]}" "${kinds[$i]}"; done)"
note "ConnectTo:$desc (${#links[@]} links)"

for name in "${NAMES[@]}"; do start_node "$name" || finish; done

# ping_all_from SRC TIMEOUT OUT: ping every other node from SRC, each pair
# polled until it answers or TIMEOUT; one line "SRC DST ok|fail" per pair
ping_all_from() {
	local src=$1 limit=$2 out=$3 dst start
	: >"$out"
	for dst in "${NAMES[@]}"; do
		[ "$dst" = "$src" ] && continue
		start=$(now_ms)
		while ! ping_ok "${NODE_NS[$src]}" "$(vpn4 "$dst")"; do
			if [ $(($(now_ms) - start)) -gt $((limit * 1000)) ]; then
				echo "$src $dst fail" >>"$out"
				continue 2
			fi
			sleep 0.2
		done
		echo "$src $dst ok" >>"$out"
	done
}

# all_pairs TAG [EXCEPT]: run ping_all_from for every node in parallel
all_pairs() {
	local tag=$1 except=${2:-} name pids=() ok fails
	for name in "${NAMES[@]}"; do
		[ "$name" = "$except" ] && continue
		ping_all_from "$name" 30 "$TMP/pairs.$tag.$name" &
		pids+=($!)
	done
	wait "${pids[@]}"
	ok=$(cat "$TMP"/pairs."$tag".* | grep -c ' ok$')
	fails=$(cat "$TMP"/pairs."$tag".* | grep ' fail$' | awk '{printf "%s->%s ", $1, $2}')
	[ -n "$fails" ] && note "pairs without an answer: $fails"
	echo "$ok"
}

start=$(now_ms)
ok=$(all_pairs initial)
check_eq "all $((N * (N - 1))) ordered pairs ping ($(ms_to_s $(($(now_ms) - start)))s)" $((N * (N - 1))) "$ok"

# ---- kill one node (seeded choice)
victim=${NAMES[$((RANDOM % N))]}
note "killing $victim ($(daemon_label "${NODE_DAEMON[$victim]}"))"
# SRC: a ping from SRC to the victim is answered "Net Unreachable" (the
# owner of the subnet is unreachable), or "Net Unknown" (the subnet is gone:
# a node that lost its last connection purges unreachable nodes' subnets)
unreach_seen() {
	local out
	out=$(nsx "${NODE_NS[$1]}" ping -n -c1 -W1 "$(vpn4 "$victim")" 2>&1)
	case "$out" in *"Destination Net Unreachable"* | *"Destination Net Unknown"*) return 0 ;; esac
	return 1
}
kill_node "$victim"
killed=$(now_ms)
late=""
for name in "${NAMES[@]}"; do
	[ "$name" = "$victim" ] && continue
	if ! wait_for "unreach_seen $name" $((PINGTIMEOUT + 1 - ($(now_ms) - killed) / 1000)); then
		late+=" $name"
	fi
done
if [ -z "$late" ]; then
	pass "every node answers 'Net Unreachable/Unknown' for $victim within $(ms_to_s $(($(now_ms) - killed)))s of the kill (PingTimeout $PINGTIMEOUT s)"
else
	fail "still routing to $victim after PingTimeout+1 s:$late"
fi

# ---- a node that hangs (SIGSTOP: no FIN, its sockets stay open): only the
# PING/PONG timeout of its neighbours can notice.  tinc runs that check only
# on housekeeping ticks, at least PingTimeout apart: the next PING leaves at
# the first tick >= PingInterval after the last one (up to PingInterval +
# PingTimeout), the missing PONG is noticed at the first tick >= PingTimeout
# after that (up to 2 x PingTimeout): PingInterval + 3 x PingTimeout, plus
# 2 s for the flooding of DEL_EDGE and our polling
others=() candidates=()
for i in $(seq 0 $((N - 1))); do
	name=${NAMES[$i]}
	[ "$name" = "$victim" ] && continue
	others+=("$name")
	# only a node that still has a link besides the killed one is reachable
	for l in "${links[@]}"; do
		read -r a b <<<"$l"
		if { [ "$a" = "$i" ] && [ "${NAMES[$b]}" != "$victim" ]; } ||
			{ [ "$b" = "$i" ] && [ "${NAMES[$a]}" != "$victim" ]; }; then
			candidates+=("$name")
			break
		fi
	done
done
frozen=${candidates[$((RANDOM % ${#candidates[@]}))]}
note "freezing $frozen ($(daemon_label "${NODE_DAEMON[$frozen]}"))"
reached_by_some() { # some other node still reaches the frozen one
	local name
	for name in "${others[@]}"; do
		[ "$name" != "$frozen" ] && ping_ok "${NODE_NS[$name]}" "$(vpn4 "$frozen")" && return 0
	done
	return 1
}
check "$frozen is reachable before it hangs" wait_for reached_by_some 5
kill -STOP "${NODE_PID[$frozen]}"
stopped=$(now_ms)
frozen_unreach() { # SRC
	local out
	out=$(nsx "${NODE_NS[$1]}" ping -n -c1 -W1 "$(vpn4 "$frozen")" 2>&1)
	case "$out" in *"Destination Net Unreachable"* | *"Destination Net Unknown"*) return 0 ;; esac
	return 1
}
bound=$((PINGINTERVAL + 3 * PINGTIMEOUT + 2))
late=""
for name in "${others[@]}"; do
	[ "$name" = "$frozen" ] && continue
	wait_for "frozen_unreach $name" $((bound - ($(now_ms) - stopped) / 1000)) || late+=" $name"
done
if [ -z "$late" ]; then
	pass "a hung node is unreachable everywhere after $(ms_to_s $(($(now_ms) - stopped)))s (bound: PingInterval $PINGINTERVAL + 3 x PingTimeout $PINGTIMEOUT + 2 s)"
else
	fail "nodes still routing to the hung $frozen after $bound s:$late"
fi
kill -CONT "${NODE_PID[$frozen]}"

# ---- rejoin
start_node "$victim" || finish
for name in "${NAMES[@]}"; do node_alive "$name" && kill -ALRM "${NODE_PID[$name]}"; done
rejoin=$(now_ms)
pids=()
for name in "${NAMES[@]}"; do
	[ "$name" = "$victim" ] && continue
	( wait_for "ping_ok ${NODE_NS[$name]} $(vpn4 "$victim")" 30 && echo "$name" >"$TMP/rejoin.$name" ) &
	pids+=($!)
done
wait "${pids[@]}"
back=$(ls "$TMP"/rejoin.* 2>/dev/null | wc -l)
check_eq "after the restart all $((N - 1)) nodes reach $victim again ($(ms_to_s $(($(now_ms) - rejoin)))s)" $((N - 1)) "$back"
ok=$(all_pairs rejoined)
check_eq "after the rejoin all ordered pairs ping" $((N * (N - 1))) "$ok"

# ---- flooding: ADD_EDGE counts settle and stay bounded
# Links of the killed node come back when their initiators retry; ALRM makes
# every daemon retry now instead of after its back-off.  Then the counts must
# come to rest (a loop would keep them growing) and stay under a bound: each
# directed edge (2 per link) is announced a few times per start phase, and a
# node hears each announcement at most once per link it has.
for name in "${NAMES[@]}"; do kill -ALRM "${NODE_PID[$name]}"; done
edges=$((2 * ${#links[@]}))
count_add_edge() { log_count "$1" 'Got ADD_EDGE from'; }
add_edge_counts() {
	local name
	for name in "${NAMES[@]}"; do printf '%s ' "$(count_add_edge "$name")"; done
}
prev=$(add_edge_counts) stable=0 settle=$(now_ms)
while [ "$stable" -lt 4 ] && [ $(($(now_ms) - settle)) -lt 30000 ]; do
	sleep 1
	cur=$(add_edge_counts)
	if [ "$cur" = "$prev" ]; then stable=$((stable + 1)); else stable=0; fi
	prev=$cur
done
if [ "$stable" -ge 4 ]; then
	pass "ADD_EDGE counts came to rest (4 s without one) $(ms_to_s $(($(now_ms) - settle)))s after ALRM"
else
	fail "ADD_EDGE counts still growing 30 s after ALRM: $prev"
fi
over="" total=0
for i in $(seq 0 $((N - 1))); do
	name=${NAMES[$i]}
	c=$(count_add_edge "$name")
	total=$((total + c))
	bound=$((4 * edges * ${DEG[$i]}))
	[ "$c" -gt "$bound" ] && over+=" $name($c>$bound)"
done
note "ADD_EDGE requests received, all nodes together: $total ($edges directed edges)"
check_eq "ADD_EDGE received per node within 4 x edges x degree" "" "$over"
# the only TCP in the host namespaces is meta connections: 2 sockets per link
connected=$(for name in "${NAMES[@]}"; do nsx "${NODE_NS[$name]}" ss -Htn state established; done | wc -l)
note "established meta connections seen from both ends: $connected (expected $((2 * ${#links[@]})))"
check_eq "every ConnectTo link is up again" $((2 * ${#links[@]})) "$connected"

for name in "${NAMES[@]}"; do check "$name still running" node_alive "$name"; done
finish

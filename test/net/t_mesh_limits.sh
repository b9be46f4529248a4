#!/bin/bash
# MaxSubnetsPerNode and MaxEdgesPerNode (issue 17): an authenticated peer
# ("evil", test/net/evilpeer) announces 65536 subnets and 2000 edges of its
# own to alpha, which has the honest peer beta behind it.
#
# Checks: the connection stays up; alpha says once for each limit that evil
# reached it; alpha and beta hold exactly the limits' worth of evil's subnets
# and edges (their SIGUSR2 dumps); alpha's resident memory grows by less
# than RSS_GROWTH_LIMIT_KB (65536 subnets unbounded cost about 17 MB); the
# honest link keeps working.
. "$(dirname "$0")/lib.sh"

# ASan's shadow memory and quarantine multiply what the daemon holds, and
# its checks the CPU it spends: looser bounds for a sanitized build (the
# plain build's make check holds the tight ones)
if ldd "$FQTINC" 2>/dev/null | grep -q libasan; then
	RSS_GROWTH_LIMIT_KB=${RSS_GROWTH_LIMIT_KB:-65536}
	STORM_CPU_LIMIT_CS=${STORM_CPU_LIMIT_CS:-2500}
fi
RSS_GROWTH_LIMIT_KB=${RSS_GROWTH_LIMIT_KB:-8192}
SUBNET_LIMIT=10000
EDGE_LIMIT=1000
EVILPEER=${EVILPEER:-$top_builddir/test/net/evilpeer}
[ -x "$EVILPEER" ] || skip "test helper $EVILPEER not built (make check builds it)"

evil_peer_setup
# CPU seconds (user + system) alpha spent so far, from /proc/PID/stat
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$pid/stat"; }
cpu0=$(cpu_s)

start=$(now_ms)
ip netns exec "$NS_C" "$EVILPEER" -c "${NODE_DIR[evil]}" -n evil -t alpha -a "$(outer4 alpha)" \
	-p "${NODE_PORT[alpha]}" -s "$NET_DIR/evil_limits.script" -T 120 >"$TMP/evil.out" 2>&1
evil_status=$?
cpu1=$(cpu_s)
note "evilpeer ran for $(ms_to_s $(($(now_ms) - start)))s; alpha spent $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }') CPU seconds meanwhile"
# 65536 subnets and 2000 edges are a few hundred thousand lines to parse;
# a graph run per request (quadratic) would take far longer than this
check_cmp "alpha's CPU during the storm (hundredths of a second)" \
	"$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%d", (b - a) * 100 }')" -le "${STORM_CPU_LIMIT_CS:-500}"
sed 's/^/#   /' "$TMP/evil.out"
check_eq "evilpeer: the connection stayed open (exit status)" 0 "$evil_status"
check_eq "evilpeer: 3 expectations checked" 3 "$(grep -c ': expect ' "$TMP/evil.out")"

check_eq "subnet limit logged once" 1 \
	"$(log_count alpha "node evil already has $SUBNET_LIMIT subnets, as many as MaxSubnetsPerNode allows")"
check_eq "edge limit logged once" 1 \
	"$(log_count alpha "node evil already has $EDGE_LIMIT edges, as many as MaxEdgesPerNode allows")"

# evil's last requests may still be on their way to beta: wait until beta
# holds as many of evil's subnets as alpha does
dump_count() { # NAME PATTERN: lines of the node's latest SIGUSR2 dump matching PATTERN
	local log=${NODE_DIR[$1]}/log
	local from=$(($(wc -l <"$log") + 1))
	kill -USR2 "${NODE_PID[$1]}"
	wait_for "tail -n +$from '$log' | grep -q 'End of subnets'" 10
	tail -n +"$from" "$log" | grep -cE "$2"
}
check_eq "alpha holds $SUBNET_LIMIT of evil's subnets" "$SUBNET_LIMIT" "$(dump_count alpha ' owner evil$')"
# evilpeer has gone: its edge to alpha went with its connection, the others stay
check_eq "alpha holds $EDGE_LIMIT of evil's edges, less the one to alpha" $((EDGE_LIMIT - 1)) "$(dump_count alpha '^ *evil to ')"
wait_for "[ \"\$(dump_count beta ' owner evil\$')\" = $SUBNET_LIMIT ]" 20
check_eq "beta got only those subnets" "$SUBNET_LIMIT" "$(dump_count beta ' owner evil$')"
check_eq "beta got only those edges" $((EDGE_LIMIT - 1)) "$(dump_count beta '^ *evil to ')"

rss1=$(status_kb VmRSS)
hwm=$(status_kb VmHWM)
note "alpha after: VmRSS $rss1 kB (growth $((rss1 - rss0)) kB), peak VmHWM $hwm kB"
check_cmp "alpha's resident memory growth bounded (kB)" $((hwm - rss0)) -le "$RSS_GROWTH_LIMIT_KB"
check_ping "honest link still up" "$NS_B" "$(vpn4 alpha)" 10
finish

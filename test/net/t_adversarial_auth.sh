#!/bin/bash
# An authenticated but malicious peer against fqtinc (issue 6). evilpeer (a
# test helper built from fqtinc's own crypto code) logs in as "evil" with a
# real key and runs evil_auth.script: ADD_SUBNET and ADD_EDGE storms, edges
# for unknown nodes, lies about the target, REQ_KEY/ANS_KEY with bad hex,
# wrong key lengths, unknown algorithms and unreachable nodes, a KEY_CHANGED
# flood, PACKETs with lying lengths, and requests that must end the
# connection. Meanwhile the honest peer beta keeps pinging alpha.
#
# Checks: each of the script's expectations (connection kept or dropped),
# every bad key logged, no invented node becomes reachable, the honest link
# never drops and loses < 5 % of pings, alpha's memory stays bounded.
. "$(dirname "$0")/lib.sh"

RSS_GROWTH_LIMIT_KB=${RSS_GROWTH_LIMIT_KB:-65536}
EVILPEER=${EVILPEER:-$top_builddir/test/net/evilpeer}
[ -x "$EVILPEER" ] || skip "test helper $EVILPEER not built (make check builds it)"

evil_peer_setup

honest_ping_start beta alpha 100

start=$(now_ms)
ip netns exec "$NS_C" "$EVILPEER" -c "${NODE_DIR[evil]}" -n evil -t alpha -a "$(outer4 alpha)" \
	-p "${NODE_PORT[alpha]}" -s "$NET_DIR/evil_auth.script" -T 90 >"$TMP/evil.out" 2>&1
evil_status=$?
note "evilpeer ran for $(ms_to_s $(($(now_ms) - start)))s"
sed 's/^/#   /' "$TMP/evil.out"
check_eq "evilpeer: every expectation met (exit status)" 0 "$evil_status"
check_eq "evilpeer: 15 expectations checked" 15 "$(grep -c ': expect ' "$TMP/evil.out")"

honest_ping_check "the attack"

check_cmp "unusable ANS_KEYs logged" "$(log_count alpha 'Unusable packet key from evil')" -ge 6
check_cmp "REQ_KEY/ANS_KEY for unreachable or unknown nodes logged" \
	"$(log_count alpha '(REQ_KEY|ANS_KEY) from evil .*(not reachable|unknown node)')" -ge 5
check_cmp "invalid subnets and edges reported" "$(log_count alpha 'Malformed (ADD_SUBNET|ADD_EDGE|PACKET|REQ_KEY) from evil')" -ge 5
check_cmp "the handshake request on an active connection refused" "$(log_count alpha 'Out-of-order [A-Z_]+ from evil')" -ge 1
check_eq "no invented node became reachable" 0 "$(log_count alpha 'Node ghost[a-z0-9]* (is now reachable|\(.*\) can be reached now)')"

rss1=$(status_kb VmRSS)
hwm=$(status_kb VmHWM)
note "alpha after: VmRSS $rss1 kB (growth $((rss1 - rss0)) kB), peak VmHWM $hwm kB"
check_cmp "alpha's resident memory growth bounded (kB)" $((hwm - rss0)) -le "$RSS_GROWTH_LIMIT_KB"
finish

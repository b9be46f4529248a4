#!/bin/bash
# Unauthenticated attackers against fqtinc (issue 6): garbage, oversized
# lines, bad or out-of-state opening lines, hundreds of slowloris and idle
# connections. Meanwhile an honest peer keeps pinging through the tunnel.
#
#   alpha  fqtinc, the target, in namespace A
#   beta   fqtinc, honest, ConnectTo = alpha, in namespace B
#   the attacker runs in the router namespace and talks to alpha's meta port
#
# Checks: every attack connection is dropped (none gets an ID back, none stays
# open beyond the 10-slot tarpit, slow ones time out in authentication), the honest link never drops and ping loss
# stays under 5 %, the daemon's file descriptors return to their baseline and
# its resident memory stays bounded (numbers are printed).
. "$(dirname "$0")/lib.sh"

SLOW_CONNS=${SLOW_CONNS:-300}
SLOW_SECS=${SLOW_SECS:-7}
RSS_GROWTH_LIMIT_KB=${RSS_GROWTH_LIMIT_KB:-4096}
RSS_PEAK_LIMIT_KB=${RSS_PEAK_LIMIT_KB:-16384}
ADV="$NET_DIR/adversary.py"

need_daemon "$FQTINC"
setup_test
topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
connect_to beta alpha
exchange_hosts alpha beta
start_node alpha || finish
start_node beta || finish
check_ping "honest link up" "$NS_B" "$(vpn4 alpha)" 20

pid=${NODE_PID[alpha]}
host=$(outer4 alpha)
port=${NODE_PORT[alpha]}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }
adv() { ip netns exec "$NS_R" timeout 60 "$PYTHON" "$ADV" "$@"; }
kv() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

rss0=$(status_kb VmRSS)
fd0=$(fds)
note "alpha before: VmRSS ${rss0} kB, $fd0 fds"

# The honest peer pings for the whole attack.
honest_ping_start beta alpha 80

drops_before=$(log_count alpha 'Unreadable data|overlong field|unknown type|Out-of-order|too long for the receive buffer|Too many connections this second|has no host file here|Malformed ID|speaks protocol')

r=$(adv garbage "$host" "$port" 20)
note "$r"
# The daemon stops reading a connection whose line overflows its buffer, so
# the sender stalls after the socket buffers fill.
r=$(adv longline "$host" "$port" 5 1048576)
note "$r"
r=$(adv badlines "$host" "$port")
note "$r"
check_eq "no bad opening line is answered" 0 "$(kv "$r" answered)"

drops=$(( $(log_count alpha 'Unreadable data|overlong field|unknown type|Out-of-order|too long for the receive buffer|Too many connections this second|has no host file here|Malformed ID|speaks protocol') - drops_before ))
nbad=$(kv "$r" lines)
check_cmp "every garbage, long-line and bad-line connection was dropped and logged" "$drops" -ge $((20 + 5 + nbad))

# Control: a valid opening from a known name is answered, so "answered=0"
# above is a real result.
ctl=$(ip netns exec "$NS_R" timeout 10 "$PYTHON" "$NETHELP" probe "$host" "$port" none --name beta 2>&1)
case "$ctl" in answered*) pass "control: a valid ID is answered" ;; *) fail "control: a valid ID is answered ($ctl)" ;; esac

# All at once: the listen backlog (3, as in tinc) spreads the connects over
# a few seconds, and beyond 10 a second they go straight to the tarpit.
r=$(adv slowloris "$host" "$port" "$SLOW_CONNS" "$SLOW_SECS")
note "$r"
check_eq "slowloris: all $SLOW_CONNS connections accepted" "$SLOW_CONNS" "$(kv "$r" connections)"
check_cmp "slowloris: at most the 10 tarpit slots still open ${SLOW_SECS}s after the last connect" "$(kv "$r" open_at_end)" -le 10
# Paced under the limit of 10 new connections a second, so that each one is
# a real connection in authentication that must time out (PingTimeout 5 s).
# 40 connections in 5 s; the last one times out (PingTimeout + housekeeping)
# within 7 s.
timeouts0=$(log_count alpha 'Authentication of <unknown> .* took longer than')
r=$(adv slowloris "$host" "$port" 40 "$SLOW_SECS" 8)
note "$r"
check_eq "paced slowloris: all 40 connections accepted" 40 "$(kv "$r" connections)"
check_cmp "paced slowloris: at most the 10 tarpit slots still open" "$(kv "$r" open_at_end)" -le 10
check_eq "paced slowloris: every connection timed out in authentication" 40 \
	$(( $(log_count alpha 'Authentication of <unknown> .* took longer than') - timeouts0 ))
hwm_slow=$(status_kb VmHWM)

r=$(adv idle "$host" "$port" 50 9)
note "$r"
check_cmp "idle: at most the 10 tarpit slots still open after 9 s" "$(kv "$r" open_at_end)" -le 10

honest_ping_check "the attacks"

# Let the last authentication timeouts fire.
wait_for "[ \$(fds) -le $((fd0 + 10)) ]" 10
rss1=$(status_kb VmRSS)
hwm=$(status_kb VmHWM)
fd1=$(fds)
note "alpha after: VmRSS ${rss1} kB (growth $((rss1 - rss0)) kB), peak VmHWM ${hwm} kB (after slowloris ${hwm_slow} kB), $fd1 fds (baseline $fd0)"
check_cmp "file descriptors back to baseline + tarpit" "$fd1" -le $((fd0 + 10))
check_cmp "resident memory growth bounded (kB)" $((rss1 - rss0)) -le "$RSS_GROWTH_LIMIT_KB"
check_cmp "peak resident memory bounded (kB above start)" $((hwm - rss0)) -le "$RSS_PEAK_LIMIT_KB"
finish

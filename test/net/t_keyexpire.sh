#!/bin/bash
# Packet-key rotation under load, against tinc: KeyExpire = 10 on both nodes,
# while two paced transfers run for KE_SECS seconds (default 30), one each way.
#
#   A_DAEMON (default fq), B_DAEMON (default tinc): fq | tinc | path
#   KE_SIDES   which nodes get KeyExpire = 10: "a b" (default), "a" or "b"
#   KE_SECS    duration of the transfers, default 30; KE_RATE bytes/s, default 1 MiB
#
# Checks: both transfers arrive intact, neither stalls (longest pause between
# two reads at the receiver below KE_MAXGAP s, default 3), the keys really
# changed (KEY_CHANGED seen in the logs), and the data still went mostly by UDP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

A_DAEMON=$(resolve_daemon "${A_DAEMON:-fq}")
B_DAEMON=$(resolve_daemon "${B_DAEMON:-tinc}")
KE_SIDES=${KE_SIDES:-a b}
KE_SECS=${KE_SECS:-30}
KE_RATE=${KE_RATE:-1048576}
KE_MAXGAP=${KE_MAXGAP:-3}
XFER_TIMEOUT=$((KE_SECS + 60))

need_daemon "$A_DAEMON"
need_daemon "$B_DAEMON"
setup_test
note "A = $(daemon_label "$A_DAEMON"), B = $(daemon_label "$B_DAEMON"), KeyExpire = 10 on: $KE_SIDES; ${KE_SECS}s at $KE_RATE bytes/s each way"
topo_pair
opts_a=() opts_b=()
case " $KE_SIDES " in *" a "*) opts_a=(KeyExpire=10) ;; esac
case " $KE_SIDES " in *" b "*) opts_b=(KeyExpire=10) ;; esac
make_node "$NS_A" alpha "$A_DAEMON" "${opts_a[@]}" || finish
make_node "$NS_B" beta "$B_DAEMON" "${opts_b[@]}" || finish
connect_to alpha beta
exchange_hosts alpha beta
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}"
start_node beta || finish
start_node alpha || finish

check_ping "IPv4 ping A -> B" "$NS_A" "$(vpn4 beta)" 20
check_ping "IPv4 ping B -> A" "$NS_B" "$(vpn4 alpha)" 10
wait_pmtu_settled "$NS_A" "$(vpn4 beta)" 30
wait_pmtu_settled "$NS_B" "$(vpn4 alpha)" 30

# key_changes NODE PEER: KEY_CHANGED floods by NODE seen in the logs (tinc
# at -d3 logs "Sending KEY_CHANGED to everyone" and "Got KEY_CHANGED from X")
key_changes() {
	echo $(($(log_count "$1" 'Sending KEY_CHANGED') + $(log_count "$2" "Got KEY_CHANGED from $1")))
}
kc_a0=$(key_changes alpha beta)
kc_b0=$(key_changes beta alpha)
counters_reset
bytes=$((KE_SECS * KE_RATE))
t0=$(now_ms)
transfer_start ab "$NS_A" "$NS_B" "$(vpn4 beta)" 5001 "$bytes" --rate "$KE_RATE" --seed 21
transfer_start ba "$NS_B" "$NS_A" "$(vpn6 alpha)" 5001 "$bytes" --rate "$KE_RATE" --seed 22
transfer_wait ab
ok_ab=$?
gap_ab=$XFER_MAXGAP
transfer_wait ba
ok_ba=$?
gap_ba=$XFER_MAXGAP
note "both transfers done after $(ms_to_s $(($(now_ms) - t0)))s"
check_eq "A -> B: $bytes bytes intact over ${KE_SECS}s" 0 "$ok_ab"
check_eq "B -> A: $bytes bytes intact over ${KE_SECS}s" 0 "$ok_ba"
check "A -> B: no stall (longest pause ${gap_ab}s < ${KE_MAXGAP}s)" awk -v g="$gap_ab" -v m="$KE_MAXGAP" 'BEGIN { exit !(g < m) }'
check "B -> A: no stall (longest pause ${gap_ba}s < ${KE_MAXGAP}s)" awk -v g="$gap_ba" -v m="$KE_MAXGAP" 'BEGIN { exit !(g < m) }'

# Each expiry floods a KEY_CHANGED: with KeyExpire = 10 and the daemons'
# 5-second housekeeping tick, expect at least two per expiring node.
for n in alpha beta; do
	note "$n's log: $(log_count $n 'KEY_CHANGED') KEY_CHANGED lines, $(log_count $n 'REQ_KEY') REQ_KEY, $(log_count $n 'ANS_KEY') ANS_KEY"
done
case " $KE_SIDES " in *" a "*)
	check_cmp "A renewed its key during the transfers (KEY_CHANGED from A in the logs)" $(($(key_changes alpha beta) - kc_a0)) -ge 2 ;;
esac
case " $KE_SIDES " in *" b "*)
	check_cmp "B renewed its key during the transfers (KEY_CHANGED from B in the logs)" $(($(key_changes beta alpha) - kc_b0)) -ge 2 ;;
esac

counters_note "during the transfers"
check_cmp "data went mostly by UDP (UDP bytes > 4 x TCP bytes)" "$UDP_BYTES" -gt $((4 * TCP_BYTES))
check "A still running" node_alive alpha
check "B still running" node_alive beta
finish

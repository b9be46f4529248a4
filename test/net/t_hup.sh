#!/bin/bash
# SIGHUP (protocol.md §2.9) on alpha, which has ConnectTo beta and gamma and
# StrictSubnets = yes.  beta owns an extra subnet 10.20.0.2/32 that alpha's
# copy of hosts/beta does not list at first.  Signals are sent with the
# daemon's own `-kHUP`.
#
# 1. HUP with nothing changed: no connection is closed.
# 2. Subnet 10.20.0.2/32 added to alpha's hosts/beta, HUP: the connection
#    with beta (modified file) is closed and comes back, gamma's is kept;
#    alpha now routes 10.20.0.2 (it answered "Net Unknown" before) and
#    announced the subnet (ADD_SUBNET at gamma).
# 3. The line removed again, HUP: "Net Unknown" again, DEL_SUBNET at gamma.
# 4. hosts/gamma deleted, HUP: the connection with gamma is closed and not
#    re-established.  5. File restored, HUP: gamma is back.
#
#   HUP_A   daemon of alpha (default fq; "tinc" runs the test on 1.0.36)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

HUP_A=$(resolve_daemon "${HUP_A:-fq}")
need_daemon "$HUP_A"
need_daemon "$TINC"
need_daemon "$FQTINC"
DEBUG_LEVEL=4 # gamma's log shows the contents of the subnet requests
setup_test

topo_chain3
make_node "$NS_A" alpha "$HUP_A" StrictSubnets=yes PingInterval=10 || finish
make_node "$NS_B" beta tinc || finish
make_node "$NS_C" gamma fq || finish
connect_to alpha beta
connect_to alpha gamma
exchange_hosts alpha beta gamma
# beta owns 10.20.0.2 too; alpha's copy of hosts/beta does not say so yet
node_opt beta "Subnet=10.20.0.2/32"
echo 'ip addr add 10.20.0.2/32 dev "$INTERFACE"' >>"${NODE_DIR[beta]}/tinc-up"
cp "${NODE_DIR[beta]}/hosts/beta" "${NODE_DIR[gamma]}/hosts/beta"
A=${NODE_DIR[alpha]}

start_node beta && start_node gamma && start_node alpha || finish
# 10.20.0.0/24 is reached through the tunnel too
ip -n "$NS_A" route replace 10.20.0.0/24 dev vpn1 src "$(vpn4 alpha)"
ip -n "$NS_C" route replace 10.20.0.0/24 dev vpn3 src "$(vpn4 gamma)"
check_ping "alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
check_ping "alpha -> gamma" "$NS_A" "$(vpn4 gamma)" 10

# ping_says NS ADDR TEXT: one ping; its output contains TEXT
ping_says() {
	local out
	out=$(nsx "$1" ping -n -c1 -W1 "$2" 2>&1)
	case "$out" in *"$3"*) return 0 ;; esac
	return 1
}
hup() {
	"${NODE_DAEMON[$1]}" -c "${NODE_DIR[$1]}" --pidfile="${NODE_DIR[$1]}/pid" -kHUP
}
closings() { log_count alpha "Closing (the )?connection with $1"; }
lines() { wc -l <"${NODE_DIR[$1]}/log"; }
# log_since NAME LINE REGEX: REGEX occurs in NAME's log after line LINE
log_since() { tail -n +$(($2 + 1)) "${NODE_DIR[$1]}/log" | grep -q -E -- "$3"; }

check "before: alpha (StrictSubnets) answers 'Net Unknown' for beta's unlisted 10.20.0.2" \
	ping_says "$NS_A" 10.20.0.2 "Destination Net Unknown"

# ---- 1: nothing changed
sleep 1.1 # tinc compares whole seconds
cb=$(closings beta) cg=$(closings gamma)
check "HUP 1 sent with -kHUP" hup alpha
wait_for "[ \$(log_count alpha 'Signal HUP|Got HUP signal|Got hangup signal') -ge 1 ]" 5
sleep 1
check_eq "HUP 1 (nothing changed): connection with beta kept" "$cb" "$(closings beta)"
check_eq "HUP 1 (nothing changed): connection with gamma kept" "$cg" "$(closings gamma)"
check_ping "HUP 1: alpha -> beta still" "$NS_A" "$(vpn4 beta)" 5

# ---- 2: a subnet added to hosts/beta
sleep 1.1
echo "Subnet = 10.20.0.2/32" >>"$A/hosts/beta"
gl=$(lines gamma)
hup alpha
check "HUP 2: connection with beta (modified host file) closed" \
	wait_for "[ \$(closings beta) -gt $cb ]" 5
check_eq "HUP 2: connection with gamma kept" "$cg" "$(closings gamma)"
check_ping "HUP 2: alpha reaches beta's new subnet 10.20.0.2" "$NS_A" 10.20.0.2 15
check "HUP 2: gamma got ADD_SUBNET beta 10.20.0.2/32 from alpha" \
	log_since gamma "$gl" "Got ADD_SUBNET from alpha .*: 10 [0-9a-f]+ beta 10.20.0.2/32#10"

# ---- 3: the subnet removed again
sleep 1.1
sed -i '/10.20.0.2/d' "$A/hosts/beta"
gl=$(lines gamma)
hup alpha
check "HUP 3: alpha answers 'Net Unknown' for 10.20.0.2 again" \
	wait_for "ping_says $NS_A 10.20.0.2 'Destination Net Unknown'" 5
check "HUP 3: gamma got DEL_SUBNET beta 10.20.0.2/32 from alpha" \
	wait_for "log_since gamma $gl 'Got DEL_SUBNET from alpha .*: 11 [0-9a-f]+ beta 10.20.0.2/32#10'" 5
check_ping "HUP 3: alpha -> beta" "$NS_A" "$(vpn4 beta)" 10

# ---- 4: hosts/gamma deleted
sleep 1.1
cg=$(closings gamma)
mv "$A/hosts/gamma" "$TMP/gamma.saved"
hup alpha
check "HUP 4: connection with gamma (host file deleted) closed" \
	wait_for "[ \$(closings gamma) -gt $cg ]" 5
sleep 2
est=$(nsx "$NS_C" ss -Htn state established | wc -l)
check_eq "HUP 4: gamma has no meta connection 2 s later" 0 "$est"
check "HUP 4: alpha no longer reaches gamma" ping_says "$NS_A" "$(vpn4 gamma)" "Destination Net Un"
check_ping "HUP 4: alpha -> beta unaffected" "$NS_A" "$(vpn4 beta)" 5

# ---- 5: restored
mv "$TMP/gamma.saved" "$A/hosts/gamma"
hup alpha
check_ping "HUP 5: host file restored: alpha reaches gamma again" "$NS_A" "$(vpn4 gamma)" 15

for n in alpha beta gamma; do check "$n still running" node_alive "$n"; done
finish

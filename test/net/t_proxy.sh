#!/bin/bash
# Proxy (protocol.md §3.1): alpha (fqtinc) reaches beta (tinc 1.0.36) only through
# a proxy (test/net/proxyd.py) in a namespace of its own; the router drops
# any direct TCP from alpha to beta and counts the attempts (must stay 0).
# One run per proxy kind: socks4, socks4a (name resolved by the proxy),
# socks5, socks5 with user/password and a name, http (name), exec (a command
# that reaches beta through the HTTP proxy, using REMOTEADDRESS/REMOTEPORT).
# Each run: the meta connection comes up (ping alpha -> beta), the proxy
# logged the request with the expected target.  Finally a socks5 proxy that
# rejects the password: alpha logs the refusal and gets no connection.
# PROXY_A=tinc runs alpha on tinc 1.0.36 (a check of the test itself).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

setup_interop_test nft

NS_R=$NS_PREFIX-r NS_A=$NS_PREFIX-a NS_B=$NS_PREFIX-b NS_P=$NS_PREFIX-p
topo_star "$NS_R" "$NS_A" "$NS_B" "$NS_P"
make_node "$NS_A" alpha "${PROXY_A:-fq}" || finish
make_node "$NS_B" beta tinc || finish
connect_to alpha beta
exchange_hosts alpha beta
PROXY=${NS_ADDR4[$NS_P]}
BETA=${NS_ADDR4[$NS_B]}
BPORT=${NODE_PORT[beta]}

nsx "$NS_R" nft -f - <<EOF
table inet proxytest {
	counter direct { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip saddr ${NS_ADDR4[$NS_A]} ip daddr $BETA tcp dport $BPORT counter name "direct" drop
	}
}
EOF
direct_attempts() {
	nsx "$NS_R" nft list counter inet proxytest direct | awk '/packets/ { print $2 }'
}

# two proxies: open (1080) and with user/password (1081)
for spec in "1080 open" "1081 auth --user tincuser --password s3cret"; do
	read -r port tag args <<<"$spec"
	# shellcheck disable=SC2086
	ip netns exec "$NS_P" "$PYTHON" "$NET_DIR/proxyd.py" serve "$port" "$TMP/proxy.$tag.log" \
		--host "betahost=$BETA" $args </dev/null >"$TMP/proxy.$tag.out" 2>&1 &
	BG_PIDS+=($!)
	wait_for "[ -e $TMP/proxy.$tag.log.ready ]" 10 || { fail "proxy $tag did not start"; finish; }
done

start_node beta || finish

# run_case TITLE PROXY_OPTION ADDRESS LOG_TAG EXPECTED_LOG_LINE
run_case() {
	local title=$1 proxy=$2 address=$3 tag=$4 expect=$5
	node_set alpha "Proxy=$proxy"
	sed -i '/^Address/d' "${NODE_DIR[alpha]}/hosts/beta"
	echo "Address = $address" >>"${NODE_DIR[alpha]}/hosts/beta"
	start_node alpha || return
	check_ping "$title: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 15
	check "$title: the proxy logged '$expect'" grep -q -- "^$expect from" "$TMP/proxy.$tag.log"
	stop_node alpha
}

run_case "socks4" "socks4 $PROXY 1080" "$BETA $BPORT" open "GRANT socks4 $BETA $BPORT"
run_case "socks4a" "socks4a $PROXY 1080 tincuser" "betahost $BPORT" open "GRANT socks4a betahost $BPORT"
run_case "socks5" "socks5 $PROXY 1080" "$BETA $BPORT" open "GRANT socks5 $BETA $BPORT"
run_case "socks5 user/password" "socks5 $PROXY 1081 tincuser s3cret" "betahost $BPORT" auth \
	"GRANT socks5-auth-name betahost $BPORT"
run_case "http" "http $PROXY 1080" "betahost $BPORT" open "GRANT http betahost $BPORT"
run_case "exec" "exec $PYTHON $NET_DIR/proxyd.py pipe $PROXY 1080 \$REMOTEADDRESS \$REMOTEPORT" \
	"$BETA $BPORT" open "GRANT http $BETA $BPORT"

# a refusing proxy
node_set alpha "Proxy=socks5 $PROXY 1081 tincuser wrong"
start_node alpha || finish
check "wrong password: alpha logs the refusal" \
	wait_for "grep -q 'Proxy refused the connection to beta: user name or password rejected' ${NODE_DIR[alpha]}/log" 10
check "wrong password: the proxy logged it" grep -q '^REFUSE socks5-auth tincuser' "$TMP/proxy.auth.log"
check "wrong password: no connection to beta" eval "! ping_ok $NS_A $(vpn4 beta)"
stop_node alpha

check_eq "no direct TCP from alpha to beta's port" 0 "$(direct_attempts)"
check "beta still running" node_alive beta
finish

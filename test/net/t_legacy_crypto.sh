#!/bin/bash
# Legacy crypto corners (protocol.md §2.10): Blowfish on OpenSSL 3, whose default
# provider does not serve it.
#
# 1. fqtinc with Cipher = blowfish refuses to start, and says which cipher
#    and how to get it (the legacy provider through OPENSSL_CONF).
# 2. A tinc 1.0.36 peer with Cipher = blowfish announces NID 91 in ANS_KEY:
#    fqtinc logs an error that names the cipher and the fix, and says the
#    packets go over TCP (tinc 1.0.36 itself stays silent about it).
# 3. With OPENSSL_CONF enabling the legacy provider for both daemons, the
#    Blowfish key is usable: no such error, and pings cross by UDP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_daemon "$TINC"
require_tools nft
setup_test

topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta tinc host:Cipher=blowfish || finish
connect_to alpha beta
exchange_hosts alpha beta

# ---- 1: our own Cipher = blowfish
out=$(OPENSSL_CONF=/dev/null timeout 10 ip netns exec "$NS_A" "$FQTINC" -c "${NODE_DIR[alpha]}" -D \
	--pidfile="$TMP/p1" -o Cipher=blowfish 2>&1)
rc=$?
note "fqtinc with Cipher = blowfish: $(echo "$out" | grep -i -m1 blowfish)"
check_cmp "Cipher = blowfish: fqtinc refuses to start" "$rc" -ne 0
check "... naming the cipher" grep -q -i 'blowfish' <<<"$out"
check "... and the fix (legacy provider, OPENSSL_CONF)" grep -q 'legacy provider.*OPENSSL_CONF' <<<"$out"

# ---- 2: the peer's Blowfish key, without the legacy provider
counters_start "$NS_R" "${NODE_PORT[alpha]}" "${NODE_PORT[beta]}"
export OPENSSL_CONF=/dev/null # whatever the system configures: default provider only
start_node beta && start_node alpha || finish
check_ping "ping alpha -> beta (carried over TCP)" "$NS_A" "$(vpn4 beta)" 20
msg='Unusable packet key from beta .*(BF-CBC|bf-cbc|blowfish).*NID 91.*legacy provider.*OPENSSL_CONF.*go over TCP'
check "alpha explains the unusable Blowfish key from beta (cipher, NID, fix, consequence)" \
	wait_for "grep -q -E '$msg' ${NODE_DIR[alpha]}/log" 15
grep -E -m1 'Unusable packet key' "${NODE_DIR[alpha]}/log" | sed 's/^/# alpha: /'
stop_node alpha
stop_node beta

# ---- 3: with the legacy provider
cat >"$TMP/openssl-legacy.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF
if OPENSSL_CONF=$TMP/openssl-legacy.cnf openssl list -providers 2>/dev/null | grep -q legacy; then
	export OPENSSL_CONF=$TMP/openssl-legacy.cnf
	before=$(log_count alpha 'Unusable packet key')
	start_node beta && start_node alpha || finish
	check_ping "legacy provider: ping alpha -> beta" "$NS_A" "$(vpn4 beta)" 20
	check_ping "legacy provider: ping beta -> alpha" "$NS_B" "$(vpn4 alpha)" 10
	check "legacy provider: pings of 1000 bytes go by UDP" wait_udp_path "$NS_A" "$(vpn4 beta)" 1000 20
	check_eq "legacy provider: no complaint about beta's key" "$before" "$(log_count alpha 'Unusable packet key')"
else
	note "the OpenSSL legacy provider is not installed: part 3 not run"
fi
finish

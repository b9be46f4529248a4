#!/bin/bash
# Secrets (issue 6).
# 1. A world-readable rsa_key.priv is used but warned about, as tinc 1.0.36
#    does (in its words "insecure file permissions", in ours "is open to
#    group or others"); a 0600 key gives no warning.
# 2. At debug level 5 (everything short of key dumps), through a handshake,
#    pings, SIGHUP and the USR1/USR2 dumps, neither daemon's log contains any
#    piece of either private key: no 16-hex-digit run of d, p, q, dP, dQ or
#    qInv (either case), no line of the PEM text, and no meta-key plaintext.
. "$(dirname "$0")/lib.sh"

DEBUG_LEVEL=5

need_daemon "$FQTINC"
setup_test
require_tools openssl
topo_pair
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
connect_to beta alpha
exchange_hosts alpha beta

chmod 0644 "${NODE_DIR[alpha]}/rsa_key.priv"
chmod 0600 "${NODE_DIR[beta]}/rsa_key.priv"
start_node alpha || finish
start_node beta || finish
check_cmp "world-readable private key: warning logged" \
	"$(log_count alpha 'Private key file .* is open to group or others')" -ge 1
check_eq "0600 private key: no warning" 0 "$(log_count beta 'is open to group or others')"

if [ -x "$TINC" ]; then
	# The reference behaves the same (fqtinc keeps 1.0.36's warning).
	dir=$TMP/ref
	mkdir -p "$dir/hosts"
	printf 'Name = ref\nDeviceType = dummy\nPort = 6699\n' >"$dir/tinc.conf"
	"$TINC" -c "$dir" -K1024 </dev/null >/dev/null 2>&1
	chmod 0644 "$dir/rsa_key.priv"
	ip netns exec "$NS_R" timeout 3 "$TINC" -c "$dir" -D -d0 --pidfile="$dir/pid" </dev/null >"$dir/log" 2>&1
	check_cmp "tinc 1.0.36 warns the same way" "$(grep -c 'insecure file permissions' "$dir/log")" -ge 1
fi

check_ping "handshake done, pings work" "$NS_B" "$(vpn4 alpha)" 20
check_ping "IPv6 pings" "$NS_A" "$(vpn6 beta)" 10
for n in alpha beta; do
	kill -HUP "${NODE_PID[$n]}"
	kill -USR1 "${NODE_PID[$n]}"
	kill -USR2 "${NODE_PID[$n]}"
done
wait_for "[ \$(log_count alpha 'End of subnets') -ge 1 ] && [ \$(log_count beta 'End of subnets') -ge 1 ]" 10
check_ping "pings after the dumps" "$NS_B" "$(vpn4 alpha)" 10
stop_all_nodes

# Every 16-hex-digit window of every private number, upper and lower case.
secrets=$TMP/secrets.txt
: >"$secrets"
for n in alpha beta; do
	openssl rsa -in "${NODE_DIR[$n]}/rsa_key.priv" -text -noout 2>/dev/null | "$PYTHON" -c '
import re, sys
secret = {"privateExponent", "prime1", "prime2", "exponent1", "exponent2", "coefficient"}
label, nums = None, {}
for line in sys.stdin:
    m = re.match(r"^(\w+):", line)
    if m:
        label = m.group(1)
        nums[label] = ""
    elif label and line.startswith(" "):
        nums[label] += re.sub(r"[^0-9a-fA-F]", "", line)
for k, v in nums.items():
    v = v.lstrip("0")
    if k in secret:
        for i in range(0, len(v) - 15, 8):
            print(v[i:i + 16])
' >>"$secrets"
	grep -v -- '-----' "${NODE_DIR[$n]}/rsa_key.priv" | awk 'length($0) >= 32' >>"$secrets"
done
nsecrets=$(wc -l <"$secrets")
check_cmp "private key material extracted to look for" "$nsecrets" -ge 100
# The search itself works: it finds the key in a hex dump of the key.
openssl rsa -in "${NODE_DIR[alpha]}/rsa_key.priv" -text -noout 2>/dev/null | tr -d ' :\n' >"$TMP/keydump"
check_cmp "self-check: the patterns find the key in its own hex dump" "$(grep -c -i -F -f "$secrets" "$TMP/keydump")" -ge 1
leaks=0
for n in alpha beta; do
	c=$(grep -c -i -F -f "$secrets" "${NODE_DIR[$n]}/log")
	note "$n's log: $(wc -l <"${NODE_DIR[$n]}/log") lines, $c containing private key material"
	leaks=$((leaks + c))
done
check_eq "no private key material in the logs at debug level 5" 0 "$leaks"
check_eq "no meta-key plaintext in the logs" 0 $(( $(log_count alpha 'meta key in the clear') + $(log_count beta 'meta key in the clear') ))
finish

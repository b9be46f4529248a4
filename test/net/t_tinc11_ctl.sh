#!/bin/bash
# tinc 1.1pre18's control program `tinc` drives fqtinc (doc/protocol.md §12):
# three fqtinc nodes in a chain (alpha - beta - gamma), and the real `tinc`
# talking to alpha over its pid file and UNIX socket.  Every output is
# parsed: node names, addresses, subnets, reachability, levels; then purge,
# retry, disconnect, log, reload and stop change what the daemon does.
# pcap gets the frames of alpha's device.
# Also: the pid file still starts with the plain pid (tincd -k, init
# systems), and fqtinc's own `fqtinc stats` table and JSON.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
TEST_TIMEOUT=${TEST_TIMEOUT:-150}
. "$(dirname "$0")/lib.sh"

need_daemon "$FQTINC"
need_tinc11
setup_test

topo_chain3
make_node "$NS_A" alpha fq || finish
make_node "$NS_B" beta fq || finish
make_node "$NS_C" gamma fq || finish
connect_to alpha beta
connect_to gamma beta
exchange_hosts alpha beta
exchange_hosts gamma beta
exchange_hosts alpha gamma
for n in beta alpha gamma; do start_node "$n" || finish; done
check_ping "IPv4 ping alpha -> gamma" "$NS_A" "$(vpn4 gamma)" 20

dir=${NODE_DIR[alpha]}
ctl() { timeout 10 "$TINC11_CTL" -c "$dir" --pidfile="$dir/pid" "$@"; }
# subscribed BIT: a control client has status BIT (0x400 pcap, 0x800 log) in
# dump connections, i.e. the daemon has taken its subscription
subscribed() {
	local st
	for st in $(ctl dump connections | awk '$1 == "<control>" { print $NF }'); do
		[ $((0x$st & $1)) -ne 0 ] && return 0
	done
	return 1
}

# ---- pid file and socket
read -r file_pid file_cookie file_host _ file_port <"$dir/pid"
check_eq "pid file: first field is the daemon's pid" "${NODE_PID[alpha]}" "$file_pid"
check_eq "pid file: cookie of 64 hex digits" 64 "$(printf %s "$file_cookie" | tr -cd 0-9a-f | wc -c)"
check_eq "pid file: first listener, wildcard as loopback" "127.0.0.1 ${NODE_PORT[alpha]}" "$file_host $file_port"
check_eq "pid file is private" 600 "$(stat -c %a "$dir/pid")"
check "control socket beside the pid file" test -S "$dir/pid.socket"
check_eq "control socket only for its owner" 700 "$(stat -c %a "$dir/pid.socket")"
check_eq "tinc pid" "${NODE_PID[alpha]}" "$(ctl pid)"

# ---- dump nodes / reachable nodes
nodes=$(ctl dump nodes)
note "dump nodes:"; printf '%s\n' "$nodes" | sed 's/^/#   /'
check_eq "dump nodes: names" "alpha beta gamma" "$(printf '%s\n' "$nodes" | awk '{print $1}' | sort | xargs)"
check_eq "dump nodes: alpha is MYSELF" "MYSELF ${NODE_PORT[alpha]}" "$(printf '%s\n' "$nodes" | awk '$1=="alpha"{print $5, $7}')"
check_eq "dump nodes: beta's address" "$(outer4 beta) ${NODE_PORT[beta]}" "$(printf '%s\n' "$nodes" | awk '$1=="beta"{print $5, $7}')"
check_eq "dump nodes: gamma's next hop is beta" beta "$(printf '%s\n' "$nodes" | awk '$1=="gamma"{for(i=1;i<NF;i++) if($i=="nexthop") print $(i+1)}')"
gstatus=$(printf '%s\n' "$nodes" | awk '$1=="gamma"{for(i=1;i<NF;i++) if($i=="status") print $(i+1)}')
check "dump nodes: gamma reachable (status $gstatus)" test $((0x${gstatus:-0} & 0x10)) -ne 0
check_eq "dump reachable nodes: all three" 3 "$(ctl dump reachable nodes | wc -l)"

# ---- edges, subnets, connections
edges=$(ctl dump edges)
check_eq "dump edges: four directed edges" 4 "$(printf '%s\n' "$edges" | grep -c ' to ')"
check "dump edges: alpha to beta at beta's address" \
	grep -qx "alpha to beta at $(outer4 beta) port ${NODE_PORT[beta]} local unspec port unspec options [0-9a-f]* weight [0-9]*" <<<"$edges"
subnets=$(ctl dump subnets)
note "dump subnets:"; printf "%s\n" "$subnets" | sed "s/^/#   /"
check "dump subnets: gamma's IPv4 subnet" grep -qx "$(vpn4 gamma) owner gamma" <<<"$subnets"
check "dump subnets: beta's IPv6 subnet" grep -qx "$(vpn6 beta) owner beta" <<<"$subnets"
conns=$(ctl dump connections)
check "dump connections: beta at its address" grep -q "^beta at $(outer4 beta) port [0-9]* options [0-9a-f]* socket [0-9]* status [0-9a-f]*$" <<<"$conns"
check "dump connections: the control client itself" grep -q "^<control> at localhost port unix " <<<"$conns"
check "dump graph: an undirected graph with gamma" grep -q '"gamma"' <<<"$(ctl dump graph)"

# ---- info
info=$(ctl info gamma)
check_eq "info gamma: node" gamma "$(awk '/^Node:/{print $2}' <<<"$info")"
check "info gamma: reachable" grep -q "^Status: .* reachable" <<<"$info"
check "info gamma: its subnet" grep -q "^Subnets: .*$(vpn4 gamma)" <<<"$info"
check "info gamma: its edge to beta" grep -q '^Edges: *beta' <<<"$info"
check_eq "info ADDRESS: owner" gamma "$(ctl info "$(vpn4 gamma)" | awk '/^Owner:/{print $2}')"

# ---- debug
out=$(ctl debug 5 2>&1)
check_eq "debug 5: old level" "Old level $DEBUG_LEVEL, new level 5." "$out"
out=$(ctl debug "$DEBUG_LEVEL" 2>&1)
check_eq "debug back: old level 5" "Old level 5, new level $DEBUG_LEVEL." "$out"

# ---- log: a reload shows up in `tinc log`
ctl log 1 >"$TMP/ctl.log" 2>&1 &
logpid=$!
check "log: the daemon took the subscription" wait_for "subscribed 0x800" 5
check_eq "no connection alpha - gamma before reload" 0 "$(ctl dump connections | grep -c '^gamma at ')"
echo "ConnectTo = gamma" >>"$dir/tinc.conf"
check "reload: exit status 0" ctl reload
check "reload: the new ConnectTo is followed" wait_for "ctl dump connections | grep -q '^gamma at $(outer4 gamma) '" 10
check "log: the reload reached tinc log" wait_for "grep -q 're-read the configuration' '$TMP/ctl.log'" 5
kill "$logpid" 2>/dev/null; wait "$logpid" 2>/dev/null

# ---- pcap: frames of alpha's device, as a pcap file
ctl pcap 200 >"$TMP/ctl.pcap" 2>/dev/null &
pcappid=$!
check "pcap: the daemon took the subscription" wait_for "subscribed 0x400" 5
nsx "$NS_A" ping -n -q -c 3 -i 0.1 "$(vpn4 beta)" >/dev/null
# 24 bytes of file header, then 6 frames of 16 + 98 bytes at least
wait_for "[ \$(stat -c %s '$TMP/ctl.pcap') -ge 708 ]" 5
kill "$pcappid" 2>/dev/null; wait "$pcappid" 2>/dev/null
pcap_summary=$("$PYTHON" - "$TMP/ctl.pcap" "$(vpn4 alpha)" "$(vpn4 beta)" <<-'PY'
	import socket, struct, sys
	data = open(sys.argv[1], "rb").read()
	magic, _, _, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
	src, dst = socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3])
	off, frames, requests, replies = 24, 0, 0, 0
	while off + 16 <= len(data):
	    _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
	    frame = data[off + 16:off + 16 + caplen]
	    off += 16 + caplen
	    frames += 1
	    if len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] == 1:
	        if frame[26:30] == src and frame[30:34] == dst and frame[34] == 8:
	            requests += 1
	        if frame[26:30] == dst and frame[30:34] == src and frame[34] == 0:
	            replies += 1
	print("%x %d %d %d %d" % (magic, link, frames, requests, replies))
PY
)
read -r p_magic p_link p_frames p_req p_rep <<<"$pcap_summary"
check_eq "pcap: a pcap file of Ethernet frames" "a1b2c3d4 1" "$p_magic $p_link"
check_cmp "pcap: the 3 echo requests alpha -> beta" "${p_req:-0}" -ge 3
check_cmp "pcap: the 3 echo replies beta -> alpha" "${p_rep:-0}" -ge 3

# ---- retry, disconnect
check "retry: exit status 0" ctl retry
check "disconnect beta: exit status 0" ctl disconnect beta
check "disconnect nosuch: refused" test "$(ctl disconnect nosuch >/dev/null 2>&1; echo $?)" -ne 0
check "connection to beta comes back" wait_for "ctl dump connections | grep -q '^beta at '" 20

# ---- purge: gamma stops; alpha keeps it as unreachable until purge
stop_node gamma
check "gamma unreachable after it stopped" wait_for "[ \$(ctl dump reachable nodes | grep -c '^gamma ') = 0 ]" 20
check "gamma still known before purge" grep -q '^gamma ' <<<"$(ctl dump nodes)"
check "purge: exit status 0" ctl purge
check "purge: gamma forgotten" test "$(ctl dump nodes | grep -c '^gamma ')" = 0

# ---- fqtinc's own statistics (doc/fqtinc.8)
FQCTL=$(dirname "$FQTINC")/fqtinc
if [ -x "$FQCTL" ]; then
	table=$("$FQCTL" --pidfile="$dir/pid" stats)
	note "fqtinc stats:"; printf '%s\n' "$table" | sed 's/^/#   /'
	check_eq "stats table: header" "node" "$(head -1 <<<"$table" | awk '{print $1}')"
	check "stats table: beta with its ECN mode" grep -Eq '^beta +[^ ]+ +[0-9]+ +(normal|compat) ' <<<"$table"
	json=$("$FQCTL" --pidfile="$dir/pid" stats --json)
	note "fqtinc stats --json:"; printf '%s\n' "$json" | sed 's/^/#   /'
	check_eq "stats --json: beta's pmtu as in the table" \
		"$(awk '$1=="beta"{print $3}' <<<"$table")" \
		"$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print([n for n in d["nodes"] if n["name"]=="beta"][0]["pmtu"])' <<<"$json")"
	check "stats table: the daemon's egress queue line" grep -Eq '^egress queue: backlog [0-9]+ packets' <<<"$table"
	check "stats table: the daemon's ingress line" grep -Eq '^ingress codel: sojourn avg [0-9.]+ ms' <<<"$table"
	check_eq "stats --json: daemon-wide counters are numbers" yes \
		"$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin)["daemon"]; print("yes" if all(isinstance(d[k], (int, float)) for k in ("egress_drop_codel", "egress_drop_memory", "ingress_drop_before_decryption", "ingress_drop_notect_after_decryption", "ingress_mark_ce", "udp_drop_bad_mac")) else "no")' <<<"$json")"
	check_eq "stats --json: beta sent packets" yes \
		"$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print("yes" if [n for n in d["nodes"] if n["name"]=="beta"][0]["out_packets"]>0 else "no")' <<<"$json")"
else
	fail "fqtinc control program $FQCTL not built"
fi

# ---- the line protocol itself (what `tinc top` and our own program rely on)
# raw_ctl COOKIE LINE...: connect to alpha's socket, present COOKIE, send the
# LINEs, print every line the daemon sends until it closes or is quiet for 1 s.
raw_ctl() {
	"$PYTHON" - "$dir/pid.socket" "$@" <<-'PY'
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		s.connect(sys.argv[1])
		s.sendall(("0 ^%s 0\n" % sys.argv[2] + "".join(l + "\n" for l in sys.argv[3:])).encode())
		s.settimeout(1.0)
		data = b""
		try:
		    while True:
		        chunk = s.recv(65536)
		        if not chunk:
		            break
		        data += chunk
		except socket.timeout:
		    pass
		sys.stdout.write(data.decode(errors="replace"))
	PY
}
read -r _ cookie _ <"$dir/pid"
raw=$(raw_ctl "$cookie" "18 13")
check_eq "handshake: our ID line" "0 alpha 17.0" "$(sed -n 1p <<<"$raw")"
check_eq "handshake: ACK with control version 0 and the pid" "4 0 ${NODE_PID[alpha]}" "$(sed -n 2p <<<"$raw")"
check "traffic (tinc top): beta's counters" grep -Eq '^18 13 beta [0-9]+ [0-9]+ [1-9][0-9]* [0-9]+$' <<<"$raw"
check_eq "traffic: closed by its end line" "18 13" "$(tail -n 1 <<<"$raw")"
check_eq "unknown request: 18 -1" "18 -1" "$(raw_ctl "$cookie" "18 77" | tail -n 1)"
check_eq "a wrong cookie gets nothing" "" "$(raw_ctl "$(tr 0-9a-f 1-9a-f0 <<<"$cookie")" "18 13")"
check "the daemon is fine after all that" grep -q '^beta ' <<<"$(ctl dump nodes)"

# ---- a crash leaves the socket and pid file behind; the next start takes them over
kill_node alpha
check "crash: the stale socket is still there" test -S "$dir/pid.socket"
start_node alpha || finish
check_eq "after the crash: tinc pid names the new daemon" "${NODE_PID[alpha]}" "$(ctl pid)"

# ---- stop
pid=${NODE_PID[alpha]}
check "stop: exit status 0" ctl stop
check "stop: the daemon is gone" wait_for "! kill -0 $pid 2>/dev/null" 10
check "stop: pid file removed" test ! -e "$dir/pid"
check "stop: socket removed" test ! -e "$dir/pid.socket"
wait "$pid" 2>/dev/null
NODE_PID[alpha]=
finish

# test/net/ecnlib.sh -- shared code of the ECN / DSCP / reordering tests
# (t_ecn_*.sh, t_reorder.sh).  Sourced after lib.sh.
#
# The expected values come from the tables typed here (RFC 6040 §4.1 and
# §4.2, RFC 2474 DSCP), never from fqtinc's code.

ECNHELP="$NET_DIR/ecnhelp.py"

# ECN codepoints (RFC 3168), indexed by their value
ECN_NAMES=(notect ect1 ect0 ce)
ECN_NOT_ECT=0 ECN_ECT1=1 ECN_ECT0=2 ECN_CE=3

# The DSCPs of the matrix (RFC 2474 / 2597 / 3246), as DSCP values (6 bits)
declare -A DSCP_VAL=([cs0]=0 [cs1]=8 [af41]=34 [ef]=46)
DSCP_LIST="cs0 cs1 af41 ef"

# RFC 6040 §4.1: outer ECN for an inner ECN.  Normal mode copies, CE
# included; compatibility mode always gives Not-ECT.
ENCAP_NORMAL=(0 1 2 3)
ENCAP_COMPAT=(0 0 0 0)

# RFC 6040 §4.2 Figure 4: the inner ECN leaving the decapsulator, indexed
# [inner * 4 + outer] with codepoints Not-ECT=0 ECT(1)=1 ECT(0)=2 CE=3;
# "drop" where the packet must be dropped.
#                outer: not-ect ect1    ect0    ce
DECAP_TABLE=(          0       0       0       drop  # inner Not-ECT
                       1       1       1       3     # inner ECT(1)
                       2       1       2       3     # inner ECT(0)
                       3       3       3       3)    # inner CE

# decap_expect INNER OUTER: the table entry
decap_expect() { echo "${DECAP_TABLE[$(($1 * 4 + $2))]}"; }

# tos DSCP ECN: the TOS / traffic-class byte
tos_byte() { printf '0x%02x' $((($1 << 2) | $2)); }

# quiet_ipv6 NS...: no IPv6 router solicitations from the namespaces' tun
# devices.  tincd broadcasts them in router mode, and an unsolicited Not-ECT
# packet arriving while the router forces outer CE would be one more
# (correct, but uncounted by the test) RFC 6040 drop.
quiet_ipv6() {
	local ns
	for ns in "$@"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 >/dev/null
	done
}

# ---------------------------------------------------------------- captures

# cap_start NS IFACE TAG [FILTER...]: lib.sh's capture_start, which runs
# tcpdump in immediate mode (a capture stopped right after the traffic keeps
# its tail). Kept as a name so the ECN tests read the same as before.
cap_start() { capture_start "$@"; }

# ---------------------------------------------------------------- daemon dumps

# usr2_dump NAME: make fqtinc NAME dump its statistics and nodes (SIGUSR2)
# and put that dump (the lines from the last "Traffic through" to the
# following "End of nodes.") into $TMP/NAME.dump.  Returns 1 if no dump came.
usr2_dump() {
	local name=$1 log=${NODE_DIR[$1]}/log before
	before=$(grep -c 'End of nodes\.' "$log" 2>/dev/null)
	kill -USR2 "${NODE_PID[$name]}" 2>/dev/null || return 1
	wait_for "[ \$(grep -c 'End of nodes\\.' $log) -gt ${before:-0} ]" 5 || return 1
	awk '/Traffic through/ { buf = "" } { buf = buf $0 "\n" } /End of nodes\./ { out = buf } END { printf "%s", out }' \
		"$log" >"$TMP/$name.dump"
}

# dump_num NAME REGEX: the first number after REGEX in NAME's last dump
# (e.g. dump_num alpha 'CE over Not-ECT dropped'), empty if absent.
dump_num() {
	grep -o -E -- "$2 [0-9]+" "$TMP/$1.dump" | head -n1 | grep -o -E '[0-9]+$'
}

# dump_node_field NAME PEER FIELD: the word after FIELD in NAME's dump line for
# node PEER (e.g. dump_node_field alpha beta ecn -> normal | compat).
dump_node_field() {
	awk -v peer="$2" -v f="$3" '
		/Nodes:/ { in_nodes = 1; next }
		/End of nodes/ { in_nodes = 0 }
		in_nodes {
			for (i = 1; i < NF; i++) if ($i == peer && $(i + 1) == "at") break
			if (i >= NF) next
			for (j = i; j < NF; j++) if ($j == f) { print $(j + 1); exit }
		}' "$TMP/$1.dump"
}

# minmtu_ok NAME PEER FRAME: fqtinc NAME has confirmed a path MTU of at least
# FRAME bytes to PEER ("pmtu M (min N max X)" in its dump), so it sends
# frames that long to PEER directly instead of through PEER's next hop.
minmtu_ok() {
	usr2_dump "$1" >/dev/null 2>&1 || return 1
	local min
	min=$(awk -v peer="$2" '
		/Nodes:/ { in_nodes = 1; next }
		/End of nodes/ { in_nodes = 0 }
		in_nodes { for (i = 1; i < NF; i++) if ($i == peer && $(i + 1) == "at") { ok = 1; break }
			if (ok) { for (j = 1; j < NF; j++) if ($j == "(min") { print $(j + 1) + 0; exit } } }' "$TMP/$1.dump")
	[ "${min:-0}" -ge "$3" ]
}

# wait_minmtu NAME PEER FRAME TIMEOUT
wait_minmtu() {
	if wait_for "minmtu_ok $1 $2 $3" "$4"; then
		note "$1 -> $2: path MTU confirmed for $3-byte frames after ${WAITED}s"
		return 0
	fi
	note "$1 -> $2: path MTU for $3-byte frames not confirmed within $4 s"
	return 1
}

# ---------------------------------------------------------------- marked pings

# A ping run is one `ping -Q TOS` of PING_COUNT echo requests to one address.
# ping_runs_begin collects runs into a script that is executed in one go in
# the sender's namespace (one `ip netns exec` for all of them), which records
# each run's start and end time; ping_runs_exec runs it and leaves
# $TMP/TAG.win with lines "LABEL T0 T1 OUTER_SRC DPORT FRAME" for ecnhelp
# windows (FRAME = the inner frame length).  Give every run its own payload
# size, 16 bytes apart (a multiple of any cipher block): a datagram of one
# run that is late (a loaded machine) cannot pass for one of the next.
PING_COUNT=${PING_COUNT:-3}

ping_runs_begin() {
	RUN_TAG=$1
	: >"$TMP/$RUN_TAG.runs"
}

# ping_run LABEL FAMILY(4|6) ADDR TOS PAYLOAD OUTER_SRC DPORT
ping_run() {
	local opt="-4" frame=$((14 + 20 + 8 + $5))
	[ "$2" = 6 ] && opt="-6" frame=$((14 + 40 + 8 + $5))
	printf '%s %s %s %s %s %s %s %s\n' "$1" "$opt" "$3" "$4" "$5" "$6" "$7" "$frame" >>"$TMP/$RUN_TAG.runs"
}

# ping_runs_exec NS: run the collected pings; RUNS_ANSWERED = runs with at
# least one answer, RUNS_TOTAL = runs.  $TMP/TAG.res: "LABEL T0 T1 SRC DPORT
# ANSWERED(1|0) FRAME".
ping_runs_exec() {
	local ns=$1
	nsx "$ns" bash -c '
		while read -r label opt addr tos size src dport frame; do
			t0=$EPOCHREALTIME
			if ping "$opt" -n -q -c "$2" -i 0.01 -W 1 -Q "$tos" -s "$size" "$addr" >/dev/null 2>&1; then
				ok=1
			else
				ok=0
			fi
			echo "$label $t0 $EPOCHREALTIME $src $dport $ok $frame"
		done <"$1"' _ "$TMP/$RUN_TAG.runs" "$PING_COUNT" >"$TMP/$RUN_TAG.res"
	awk '{ print $1, $2, $3, $4, $5, $7 }' "$TMP/$RUN_TAG.res" >"$TMP/$RUN_TAG.win"
	RUNS_TOTAL=$(wc -l <"$TMP/$RUN_TAG.res")
	RUNS_ANSWERED=$(awk '$6 == 1' "$TMP/$RUN_TAG.res" | wc -l)
}

# run_answered LABEL: did the run get an answer?
run_answered() { awk -v l="$1" '$1 == l { exit !($6 == 1) } END { }' "$TMP/$RUN_TAG.res"; }

# ---------------------------------------------------------------- nft on the router

# nft_ecn_set NS FAMILY(4|6) DPORT CODEPOINT: rewrite the outer ECN field of
# every forwarded UDP datagram to DPORT ("none" removes the rule).
nft_ecn_set() {
	local ns=$1 fam=$2 port=$3 cp=$4 ipf=ip
	[ "$fam" = 6 ] && ipf=ip6
	nsx "$ns" nft delete table inet fqtecn 2>/dev/null
	[ "$cp" = none ] && return 0
	case "$cp" in
	notect) cp=not-ect ;;
	esac
	nsx "$ns" nft -f - <<-EOF
		table inet fqtecn {
			counter rewritten { }
			chain ecn_rewrite {
				type filter hook forward priority -10; policy accept;
				meta nfproto $([ "$fam" = 6 ] && echo ipv6 || echo ipv4) udp dport $port counter name "rewritten" $ipf ecn set $cp
			}
		}
	EOF
}

nft_ecn_count() {
	nsx "$1" nft list counter inet fqtecn rewritten 2>/dev/null | awk '/packets/ { print $2; exit }'
}

#!/usr/bin/env python3
"""Number crunching for bench/run (the fqtinc vs tinc 1.0.36 and fastd benchmark).

bench/run does the namespaces, daemons and traffic in bash; this file turns
what they leave behind into numbers, plots and the final table.

Subcommands:

  iperf FILE [CC]
      Summary of an iperf3 -J result: "BITS_PER_SECOND BYTES RETRANSMITS" as
      seen by the receiver (TCP), or for UDP "BITS_PER_SECOND PACKETS LOST".
      Prints "0 0 0" and exits 1 if the file holds no result.  With CC, warns
      on stderr if the sender used another TCP congestion control.
  ping FILE T0 FLOWS_START FLOWS_END WARM DATFILE
      Read the output of `ping -D -i 0.01` that started at epoch T0, with the
      load running from FLOWS_START to FLOWS_END (epoch seconds).  Idle RTT =
      median of the probes sent before the load; the loaded window is
      [FLOWS_START + WARM, FLOWS_END].  Prints
      "IDLE_MS MEDIAN_INDUCED_MS P99_INDUCED_MS LOSS_PERCENT PROBES" and writes
      DATFILE: one "SECONDS_SINCE_FLOWS_START RTT_MS" line per answered probe.
  usr2 LOG
      The numbers of the last "egress fq_codel:" line of an fqtinc log:
      "PACKETS CODEL_DROPS OVERLIMIT_DROPS MEMORY_DROPS CE_MARKS SOJOURN_MAX_MS
      BACKLOG_PACKETS SHAPER_WIRE_BYTES INGRESS_MARKED INGRESS_DROPPED" (all 0
      when there is none; the wire bytes are 0 without a shaper).  The ingress
      numbers are the receive-side CoDel's ("ingress codel:" line): CE marks,
      and drops before plus after decryption.
  snmp FILE_BEFORE FILE_AFTER
      Deltas of the kernel's UDP counters between two copies of /proc/net/snmp:
      "RCVBUF_ERRORS SNDBUF_ERRORS IN_ERRORS".
  backlog FILE START END WARM
      Median of the "EPOCH backlog NNN[K|M]b" samples of a tc qdisc taken in
      [START + WARM, END], in KB.
  plot OUTDIR SCENARIO TITLE
      Draw OUTDIR/latency-SCENARIO.png from OUTDIR/lat-SCENARIO-{tinc,fq,fastd}.dat
      (those that exist) with gnuplot (log y axis: tinc's bloat and fqtinc's
      few ms both show).
  table RESULTS
      Print the result table.  RESULTS has "KEY DAEMON VALUE" lines (DAEMON is
      tinc, fq, fastd or -), as appended by bench/run.  A daemon without any
      result gets no column; the ratio columns are fqtinc/tinc and
      fqtinc/fastd.
"""

import json
import math
import os
import re
import subprocess
import sys


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_vals:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[min(k, len(sorted_vals)) - 1]


def cmd_iperf(args):
    try:
        with open(args[0]) as f:
            j = json.load(f)
        end = j["end"]
    except (OSError, ValueError, KeyError):
        print("0 0 0")
        return 1
    cc = end.get("sender_tcp_congestion")
    if cc and len(args) > 1 and cc != args[1]:
        sys.stderr.write("iperf3 used TCP congestion control %s, not %s\n" % (cc, args[1]))
    if "sum_received" in end and "sum_sent" in end and "retransmits" in end["sum_sent"]:
        r = end["sum_received"]
        print("%.0f %d %d" % (r["bits_per_second"], r["bytes"], end["sum_sent"].get("retransmits", 0)))
        return 0
    s = end.get("sum", {})
    print("%.0f %d %d" % (s.get("bits_per_second", 0), s.get("packets", 0), s.get("lost_packets", 0)))
    return 0


PING_RE = re.compile(r"^\[(\d+\.\d+)\].*icmp_seq=(\d+).*time=([\d.]+) ms")


def cmd_ping(args):
    path, t0, fs, fe, warm, dat = args[0], float(args[1]), float(args[2]), float(args[3]), float(args[4]), args[5]
    probes = {}  # seq -> (send time, rtt ms)
    with open(path, errors="replace") as f:
        for line in f:
            m = PING_RE.match(line)
            if not m:
                continue
            recv, seq, rtt = float(m.group(1)), int(m.group(2)), float(m.group(3))
            if seq not in probes:  # a duplicate answer is not a second probe
                probes[seq] = (recv - rtt / 1000.0, rtt)
    seqs = sorted(probes)
    idle = sorted(probes[s][1] for s in seqs if probes[s][0] < fs)
    w0 = fs + warm
    inwin = [s for s in seqs if w0 <= probes[s][0] <= fe]
    with open(dat, "w") as f:
        for s in seqs:
            t, rtt = probes[s]
            f.write("%.3f %.3f\n" % (t - fs, rtt))
    if not idle or not inwin:
        print("nan nan nan nan 0")
        return 1
    idle_ms = percentile(idle, 50)
    induced = sorted(probes[s][1] - idle_ms for s in inwin)
    # Lost probes never show up; count the sequence numbers missing between
    # the first and last answered probe of the window.
    expected = inwin[-1] - inwin[0] + 1
    loss = 100.0 * (expected - len(inwin)) / expected
    print("%.3f %.3f %.3f %.2f %d" % (idle_ms, percentile(induced, 50), percentile(induced, 99), loss, expected))
    return 0


USR2_RE = re.compile(
    r"egress fq_codel: packets (\d+) bytes \d+, dropped codel (\d+) overlimit (\d+) memory (\d+), "
    r"CE marked (\d+), backlog (\d+) packets \d+ bytes, sojourn max ([\d.]+) ms")


SHAPER_RE = re.compile(r" shaper: \d+ bit/s, (\d+) packets, (\d+) wire bytes")


INGRESS_RE = re.compile(r" ingress codel: signals \d+, dropped before decryption (\d+)(?: \(threshold \d+\))?, marked (\d+)"
                        r"(?: \(threshold (\d+)\))?, dropped Not-ECT after decryption (\d+)")


def cmd_usr2(args):
    last = None
    wire = 0
    ingress = (0, 0)
    try:
        with open(args[0], errors="replace") as f:
            for line in f:
                m = USR2_RE.search(line)
                if m:
                    last = m
                    wire = 0
                    ingress = (0, 0)
                m = SHAPER_RE.search(line)
                if m:
                    wire = int(m.group(2))
                m = INGRESS_RE.search(line)
                if m:
                    ingress = (int(m.group(2)) + int(m.group(3) or 0), int(m.group(1)) + int(m.group(4)))
    except OSError:
        pass
    if not last:
        print("0 0 0 0 0 0 0 0 0 0")
        return 0
    pk, cd, ol, mem, ce, bl, soj = last.groups()
    print(pk, cd, ol, mem, ce, soj, bl, wire, ingress[0], ingress[1])
    return 0


def snmp_udp(path):
    with open(path) as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    if len(lines) < 2:
        return {}
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def cmd_snmp(args):
    a, b = snmp_udp(args[0]), snmp_udp(args[1])
    d = lambda k: b.get(k, 0) - a.get(k, 0)
    print(d("RcvbufErrors"), d("SndbufErrors"), d("InErrors"))
    return 0


BACKLOG_RE = re.compile(r"^(\d+\.\d+) backlog (\d+)([KMG]?)b")


def cmd_backlog(args):
    """Median backlog (KB) of a qdisc sampled in the window [start + warm, end]."""
    path, start, end, warm = args[0], float(args[1]), float(args[2]), float(args[3])
    mult = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    vals = []
    with open(path) as f:
        for line in f:
            m = BACKLOG_RE.match(line)
            if m and start + warm <= float(m.group(1)) <= end:
                vals.append(int(m.group(2)) * mult[m.group(3)] / 1024.0)
    print("%.1f" % percentile(sorted(vals), 50) if vals else "nan")
    return 0


def cmd_plot(args):
    outdir, scen, title = args
    png = os.path.join(outdir, "latency-%s.png" % scen)
    series = []
    for d, label, color in (("tinc", "tinc 1.0.36", "#d62728"), ("fastd", "fastd", "#2ca02c"),
                            ("fq", "fqtinc", "#1f77b4")):
        dat = os.path.join(outdir, "lat-%s-%s.dat" % (scen, d))
        if os.path.exists(dat) and os.path.getsize(dat) > 0:
            series.append("'%s' using 1:2 with points pt 7 ps 0.3 lc rgb '%s' notitle" % (dat, color))
            # the key gets a point large enough to see its colour
            series.append("NaN with points pt 7 ps 1.5 lc rgb '%s' title '%s'" % (color, label))
    if not series:
        return 1
    script = "\n".join([
        "set terminal pngcairo size 1100,500 font ',10'" if gnuplot_has("pngcairo") else "set terminal png size 1100,500",
        "set output '%s'" % png,
        "set title '%s'" % title.replace("'", ""),
        "set xlabel 'seconds since the 4 TCP flows started (probes before 0 are idle)'",
        "set ylabel 'probe RTT (ms, log scale)'",
        "set logscale y",
        "set xrange [-1.5:*]",
        "set grid",
        "set key top left",
        "plot " + ", ".join(series),
        "",
    ])
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True, timeout=60)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    print(png)
    return 0


def gnuplot_has(term):
    try:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return re.search(r"^\s*%s\s" % term, r.stdout + r.stderr, re.M) is not None


# ---------------------------------------------------------------- the table

def load_results(path):
    res = {}
    with open(path) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) == 3:
                res[(parts[0], parts[1])] = parts[2].strip()
    return res


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def fmt(v, prec):
    x = num(v)
    if x is None:
        return "-" if v is None else str(v)
    if prec == "k":
        return "%.1fk" % (x / 1000.0)
    return ("%." + str(prec) + "f") % x


def ratio(t, f):
    t, f = num(t), num(f)
    if t is None or f is None:
        return "-"
    if t == 0:
        return "-" if f == 0 else "inf"
    return "%.2f" % (f / t)


DAEMONS = (("tinc", "tinc"), ("fq", "fqtinc"), ("fastd", "fastd"))


SCENARIOS = (
    ("cpu", "daemon is the bottleneck (no rate limit)"),
    ("cpurx", "receiving daemon is the bottleneck (CPU quota)"),
    ("local", "local 20 Mbit/s tbf on the sender's uplink"),
    ("remote", "remote bloated 20 Mbit/s gateway, fqtinc Shaper"),
    ("fqgw", "20 Mbit/s flow-queueing gateway (by outer UDP port), no Shaper"),
)


LOADS = (
    ("notect", "Not-ECT TCP"),
    ("ecn", "ECN TCP"),
)


def cmd_table(args):
    r = load_results(args[0])
    g = lambda key, d: r.get((key, d))
    rows = []  # (label, key, precision, better)

    def section(title):
        rows.append((title, None, None, None))

    section("throughput (no rate limit)")
    rows += [
        ("1 TCP stream, Mbit/s", "tput1", 1, "higher"),
        ("4 TCP streams, Mbit/s", "tput4", 1, "higher"),
        ("64-byte UDP, packets/s received", "pps", "k", "higher"),
        ("CPU s/GB, both daemons (1 stream)", "cpugb", 2, "lower"),
        ("  sender daemon", "cpugb_snd", 2, "lower"),
        ("  receiver daemon", "cpugb_rcv", 2, "lower"),
        ("  CPU busy in 1 stream: sender, %", "cpuutil_snd", 0, ""),
        ("  CPU busy in 1 stream: receiver, %", "cpuutil_rcv", 0, ""),
        ("  CPU busy in 64-byte flood: sender, %", "ppsutil_snd", 0, ""),
        ("  CPU busy in 64-byte flood: receiver, %", "ppsutil_rcv", 0, ""),
    ]
    for scen, title in SCENARIOS:
        for load, load_title in LOADS:
            tag = scen + "-" + load
            section("latency under load: %s; %s" % (title, load_title))
            rows += [
                ("idle RTT, ms", "idle_" + tag, 2, ""),
                ("induced delay median, ms", "med_" + tag, 2, "lower"),
                ("induced delay p99, ms", "p99_" + tag, 2, "lower"),
                ("probe loss, %", "loss_" + tag, 2, "lower"),
                ("TCP goodput of the 4 flows, Mbit/s", "good_" + tag, 2, "higher"),
                ("4 TCP streams just before, no probe, Mbit/s", "ref4_" + tag, 1, "higher"),
                ("TCP retransmits", "retr_" + tag, 0, ""),
                ("fqtinc sender egress: CE marks / drops", "aqm_" + tag, None, ""),
                ("fqtinc receiver ingress: CE marks/drops", "ingress_" + tag, None, ""),
                ("kernel drops: tun/UDP sndbuf/rcvbuf", "kdrop_" + tag, None, ""),
                ("bottleneck qdisc drops", "qdrop_" + tag, 0, ""),
                ("bottleneck qdisc median backlog, KB", "qbl_" + tag, 1, "lower"),
                ("fqtinc Shaper output (wire), Mbit/s", "shaped_" + tag, 2, ""),
            ]
    section("memory")
    rows += [
        ("peak RSS sender, MB", "rss_snd", 1, "lower"),
        ("peak RSS receiver, MB", "rss_rcv", 1, "lower"),
        ("flood: peak RSS sender, MB", "flood_rss", 1, ""),
        ("flood: RSS sender 3 s after flood, MB", "flood_rss_after", 1, "lower"),
    ]

    # columns: the daemons that ran, then fqtinc's ratio to each other one
    daemons = [(d, name) for d, name in DAEMONS if any(k[1] == d for k in r)]
    ran = [d for d, _ in daemons]
    ratios = [(d, "fq/" + d) for d in ("tinc", "fastd") if d in ran and "fq" in ran]
    # three value columns must fit in 100 characters
    w0, w, wr = (44, 11, 8) if len(daemons) <= 2 else (40, 10, 8)

    def line(label, values, rts, better):
        return ("%-*s" % (w0, label) + "".join(" %*s" % (w, v) for v in values)
                + "".join(" %*s" % (wr, x) for x in rts) + "  " + better).rstrip()

    print(line("", [name for _, name in daemons], [title for _, title in ratios], "better"))
    section_title = None
    for label, key, prec, better in rows:
        if key is None:
            section_title = label  # printed with its first row: phases not run leave no heading
            continue
        vals = {d: g(key, d) for d in ran}
        if all(v is None for v in vals.values()):
            continue
        if section_title:
            print("-- %s" % section_title)
            section_title = None
        rts = [ratio(vals[d], vals["fq"]) if better else "" for d, _ in ratios]
        print(line(label, [fmt(vals[d], prec) for d in ran], rts, better))
    targets(g)
    for key, d in sorted(r):
        if d == "-" and key.startswith("note"):
            print("# " + r[(key, d)])
    return 0


def targets(g):
    """The targets of issues 5, 12 and 13, checked against this run; a check
    whose numbers were not measured (e.g. fastd's, when it did not run) is
    left out."""
    def v(key, d):
        return num(g(key, d))

    def cmp(a, op, b):
        if a is None or b is None:
            return None
        return a <= b if op == "<=" else a >= b

    def part(key, d, i):
        """Field i of an "a/b/c" result."""
        x = g(key, d)
        try:
            return float(str(x).split("/")[i])
        except (IndexError, ValueError):
            return None

    def times(key, k, d="tinc"):
        t = v(key, d)
        return k * t if t else None

    def ce_not_taildrops(tag):
        """ECN flows got CE marks where tinc's got receive-buffer tail drops:
        fqtinc marked, and its rcvbuf drops are under a tenth of tinc's."""
        ce = [part(k + tag, "fq", 0) for k in ("aqm_", "ingress_")]
        fq_drops, tinc_drops = part("kdrop_" + tag, "fq", 2), part("kdrop_" + tag, "tinc", 2)
        if None in ce or fq_drops is None or tinc_drops is None:
            return None
        return sum(ce) > 0 and fq_drops <= 0.1 * tinc_drops

    def kernel_drops_near_zero(tag):
        """Drops the daemon did not decide (sender tun queue, receiver socket
        buffer) stay under 1 % of tinc's receive-buffer overflows, or 10."""
        tun, rcv = part("kdrop_" + tag, "fq", 0), part("kdrop_" + tag, "fq", 2)
        tinc_rcv = part("kdrop_" + tag, "tinc", 2)
        if tun is None or rcv is None:
            return None
        return tun + rcv <= max(10, 0.01 * (tinc_rcv or 0))

    def goodput_kept(tag):
        """Latency costs at most 10 % of the goodput: the 4 flows' goodput
        where the daemons are the bottleneck vs fqtinc's 4-stream throughput,
        measured right before that run (the tput phase's if there is none)."""
        ref = v("ref4_" + tag, "fq") or v("tput4", "fq")
        return cmp(v("good_" + tag, "fq"), ">=", 0.9 * ref if ref else None)

    checks = [("1 TCP stream >= 3x tinc", cmp(v("tput1", "fq"), ">=", times("tput1", 3))),
              ("1 TCP stream >= 2x fastd", cmp(v("tput1", "fq"), ">=", times("tput1", 2, "fastd"))),
              ("4 TCP streams >= 2x tinc", cmp(v("tput4", "fq"), ">=", times("tput4", 2))),
              ("64-byte packets/s >= 2x tinc", cmp(v("pps", "fq"), ">=", times("pps", 2))),
              ("CPU s/GB <= 0.25x tinc", cmp(v("cpugb", "fq"), "<=", times("cpugb", 0.25)))]
    for load, load_title in LOADS:
        cpu, cpurx, local, remote = ("%s-%s" % (s, load) for s in ("cpu", "cpurx", "local", "remote"))
        limit = 5 if load == "notect" else 3
        checks += [
            ("%s, CPU-bound: p99 induced delay <= %d ms" % (load_title, limit), cmp(v("p99_" + cpu, "fq"), "<=", limit)),
            ("%s, CPU-bound: p99 induced delay <= tinc's" % load_title, cmp(v("p99_" + cpu, "fq"), "<=", v("p99_" + cpu, "tinc"))),
            ("%s, CPU-bound: kernel tun/rcvbuf drops near zero" % load_title, kernel_drops_near_zero(cpu)),
            ("%s, CPU-bound: goodput >= 90%% of 4-stream throughput just before" % load_title, goodput_kept(cpu)),
            ("%s, receiver CPU-bound: p99 induced delay <= tinc's" % load_title, cmp(v("p99_" + cpurx, "fq"), "<=", v("p99_" + cpurx, "tinc"))),
            ("%s, local 20 Mbit/s uplink: p99 induced delay <= 10 ms" % load_title, cmp(v("p99_" + local, "fq"), "<=", 10)),
            ("%s, remote gateway + Shaper: p99 induced delay <= 15 ms" % load_title, cmp(v("p99_" + remote, "fq"), "<=", 15)),
            # what the Shaper costs: tinc fills the gateway's buffer and gets
            # all the link carries (the Shaper's rate counts outer headers,
            # which TCP goodput does not, so its rate is no yardstick)
            ("%s, remote gateway + Shaper: goodput >= 90%% of tinc's" % load_title,
             cmp(v("good_" + remote, "fq"), ">=", times("good_" + remote, 0.9))),
            ("%s, flow-queueing gateway: p99 induced delay <= 10 ms" % load_title, cmp(v("p99_fqgw-" + load, "fq"), "<=", 10)),
            ("%s, flow-queueing gateway: goodput >= 90%% of tinc's" % load_title,
             cmp(v("good_fqgw-" + load, "fq"), ">=", times("good_fqgw-" + load, 0.9))),
        ]
        if load == "ecn":
            checks += [("ECN TCP, CPU-bound: CE marks instead of rcvbuf tail drops", ce_not_taildrops(cpu)),
                       ("ECN TCP, receiver CPU-bound: CE marks instead of rcvbuf tail drops", ce_not_taildrops(cpurx))]
    checks.append(("flood: RSS <= FQCoDelMemoryLimit + slack",
                   None if g("flood_ok", "fq") is None else g("flood_ok", "fq") == "yes"))
    checks = [(label, ok) for label, ok in checks if ok is not None]
    if checks:
        print("-- targets of issues 5, 12, 13 and 14 (this run)")
    for label, ok in checks:
        print("%-72s %s" % (label, "met" if ok else "NOT met"))


def main():
    cmds = {"iperf": cmd_iperf, "backlog": cmd_backlog, "ping": cmd_ping, "usr2": cmd_usr2, "snmp": cmd_snmp,
            "plot": cmd_plot, "table": cmd_table}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())

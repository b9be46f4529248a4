#!/usr/bin/env python3
"""Packet-capture analysis for the ECN and reordering tests (test/net/t_ecn_*.sh).

The tests type the expected values themselves (the RFC 6040 tables); this
helper only reports what the captures contain.

Subcommands:

  windows PCAP WINFILE
      WINFILE has lines "LABEL T0 T1 SRC DPORT FRAME": one ping run that lasted
      from T0 to T1 (epoch seconds), whose echo requests were inner frames of
      FRAME bytes travelling as UDP datagrams from outer address SRC to port
      DPORT.  The tests make all frame lengths equal modulo 16 (the cipher
      block), so UDP length minus frame length is one constant per (SRC,
      DPORT): the most frequent difference over all windows.  A datagram
      belongs to a run if it lies in its window and has that difference (PMTU
      probes and late datagrams of other runs do not).  Prints per window
      "LABEL N TOS[,TOS...]": N such datagrams and their distinct outer TOS /
      traffic class bytes (hex, "-" if none).
  inner PCAP
      One line per ICMP/ICMPv6 echo request in a capture of a tun device (or
      an Ethernet/cooked capture): "FAMILY SRC PAYLOAD TOS CSUM" with PAYLOAD the
      ICMP data length (the tests use it to tell their probes apart), TOS the
      IPv4 TOS or IPv6 traffic class (hex), CSUM "ok"/"bad" (IPv4 header
      checksum; always "ok" for IPv6).
  ecncount PCAP [--proto tcp|udp|any]
      Count IP packets per ECN codepoint: "notect N ect1 N ect0 N ce N".
  outer PCAP SRC DPORT
      Count UDP datagrams from SRC to DPORT per outer TOS byte: lines "TOS N".
"""

import argparse
import socket
import struct
import sys
from collections import Counter, defaultdict

# The pcap record reader lives beside this file (Python puts a script's own
# directory first on sys.path).
from nethelp import read_pcap


def ip_of(linktype, data):
    """The IP packet inside a link-layer record, or None."""
    if linktype in (101, 12, 228, 229):  # raw IP (tun devices)
        return data
    if linktype == 1:  # Ethernet, maybe one 802.1Q tag
        off, etype = 14, struct.unpack(">H", data[12:14])[0] if len(data) >= 14 else 0
        if etype == 0x8100 and len(data) >= 18:
            off, etype = 18, struct.unpack(">H", data[16:18])[0]
    elif linktype == 113:  # Linux cooked v1
        off, etype = 16, struct.unpack(">H", data[14:16])[0] if len(data) >= 16 else 0
    elif linktype == 276:  # Linux cooked v2
        off, etype = 20, struct.unpack(">H", data[0:2])[0] if len(data) >= 20 else 0
    else:
        return None
    if etype not in (0x0800, 0x86DD):
        return None
    return data[off:]


def parse_ip(ip):
    """dict with fam, src, dst, proto, tos, l4 (bytes), iplen, csum_ok; or None."""
    if not ip:
        return None
    ver = ip[0] >> 4
    if ver == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if len(ip) < ihl:
            return None
        s = 0
        for i in range(0, ihl, 2):
            s += (ip[i] << 8) | ip[i + 1]
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return {"fam": 4, "tos": ip[1], "proto": ip[9],
                "src": socket.inet_ntop(socket.AF_INET, ip[12:16]),
                "dst": socket.inet_ntop(socket.AF_INET, ip[16:20]),
                "iplen": struct.unpack(">H", ip[2:4])[0], "l4": ip[ihl:],
                "l4len": struct.unpack(">H", ip[2:4])[0] - ihl,
                "csum_ok": s == 0xFFFF}
    if ver == 6 and len(ip) >= 40:
        plen = struct.unpack(">H", ip[4:6])[0]
        return {"fam": 6, "tos": ((ip[0] & 15) << 4) | (ip[1] >> 4), "proto": ip[6],
                "src": socket.inet_ntop(socket.AF_INET6, ip[8:24]),
                "dst": socket.inet_ntop(socket.AF_INET6, ip[24:40]),
                "iplen": plen + 40, "l4": ip[40:], "l4len": plen, "csum_ok": True}
    return None


def packets(path):
    for ts, lt, data, _orig in read_pcap(path):
        p = parse_ip(ip_of(lt, data))
        if p:
            p["ts"] = ts
            yield p


def udp_ports(p):
    if p["proto"] != 17 or len(p["l4"]) < 8:
        return None
    return struct.unpack(">HHH", p["l4"][:6])


def cmd_windows(a):
    wins = []
    with open(a.winfile) as f:
        for line in f:
            w = line.split()
            if len(w) == 6:
                wins.append((w[0], float(w[1]), float(w[2]), w[3], int(w[4]), int(w[5])))
    dgrams = defaultdict(list)  # (src, dport) -> [(ts, udplen, tos)]
    for p in packets(a.pcap):
        u = udp_ports(p)
        if u:
            dgrams[(p["src"], u[1])].append((p["ts"], u[2], p["tos"]))
    # UDP length minus inner frame length, per (src, dport): the same for
    # every echo request as long as the frames are equal modulo the cipher
    # block; PMTU probes and strays of other runs give other differences.
    over = defaultdict(Counter)
    for label, t0, t1, src, dport, frame in wins:
        for ts, ulen, _tos in dgrams[(src, dport)]:
            if t0 <= ts <= t1:
                over[(src, dport)][ulen - frame] += 1
    for label, t0, t1, src, dport, frame in wins:
        c = over[(src, dport)]
        want = c.most_common(1)[0][0] if c else None
        toses = [tos for ts, ulen, tos in dgrams[(src, dport)]
                 if t0 <= ts <= t1 and ulen - frame == want]
        tl = ",".join("0x%02x" % t for t in sorted(set(toses))) or "-"
        print("%s %d %s" % (label, len(toses), tl))
    return 0


def cmd_inner(a):
    for p in packets(a.pcap):
        if p["fam"] == 4 and p["proto"] == 1 and p["l4"][:1] == b"\x08":
            payload = p["l4len"] - 8
        elif p["fam"] == 6 and p["proto"] == 58 and p["l4"][:1] == b"\x80":
            payload = p["l4len"] - 8
        else:
            continue
        print("%d %s %d 0x%02x %s" % (p["fam"], p["src"], payload, p["tos"], "ok" if p["csum_ok"] else "bad"))
    return 0


def cmd_ecncount(a):
    want = {"tcp": 6, "udp": 17}.get(a.proto)
    n = [0, 0, 0, 0]
    for p in packets(a.pcap):
        if want is None or p["proto"] == want:
            n[p["tos"] & 3] += 1
    print("notect %d ect1 %d ect0 %d ce %d" % tuple(n))
    return 0


def cmd_outer(a):
    c = Counter()
    for p in packets(a.pcap):
        u = udp_ports(p)
        if u and p["src"] == a.src and u[1] == a.dport:
            c[p["tos"]] += 1
    for tos in sorted(c):
        print("0x%02x %d" % (tos, c[tos]))
    return 0


def main():
    ap = argparse.ArgumentParser(description="ECN test capture analysis")
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("windows")
    w.add_argument("pcap")
    w.add_argument("winfile")
    i = sub.add_parser("inner")
    i.add_argument("pcap")
    e = sub.add_parser("ecncount")
    e.add_argument("pcap")
    e.add_argument("--proto", default="any")
    o = sub.add_parser("outer")
    o.add_argument("pcap")
    o.add_argument("src")
    o.add_argument("dport", type=int)
    a = ap.parse_args()
    return {"windows": cmd_windows, "inner": cmd_inner, "ecncount": cmd_ecncount,
            "outer": cmd_outer}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Small network tools for the fqtinc integration tests (test/net/*.sh).

Subcommands (all bounded in time and size; every one exits non-zero on error):

  recv PORT RESULT [--idle S]
      Accept one TCP connection on [::]:PORT (IPv4 too), read to EOF, then write
      "BYTES SHA256 MAXGAP SECONDS" to RESULT.  MAXGAP is the longest pause between
      two reads, which is how the tests detect a stalled tunnel.  A file RESULT.ready
      appears once the socket listens, so callers can poll instead of sleeping.
  send HOST PORT BYTES [--kind random|text] [--seed N] [--rate B/S] [--idle S]
      Connect, send BYTES of deterministic data (random bytes or compressible
      text), half-close, wait for the receiver to close, print "BYTES SHA256 SECONDS".
      With --rate the sender paces itself (used for the long KeyExpire run).
  pcap FILE
      Summarise an Ethernet pcap: one line per flow "PROTO SRC DST DPORT SPORT PKTS BYTES"
      (BYTES = IP packet length from the pcap record's original length).
  probe HOST PORT KIND [--name NAME] [--wait S]
      Open a meta connection, send a bad opening (KIND = garbage, longline,
      outoforder, or none for the control case), then a valid ID line "0 NAME 17",
      and report what the daemon does: "answered <line>", "closed" or "silent".
      A daemon that dropped the connection never answers the ID; tinc keeps the
      socket open but unread (tarpit), which shows up as "silent".
  udpjunk HOST PORT COUNT [--seed N]
      Send COUNT random datagrams (1..1600 bytes) to HOST:PORT.
"""

import argparse
import hashlib
import os
import random
import socket
import struct
import sys
import time

CHUNK = 65536


def data_chunks(total, kind, seed):
    """Yield deterministic chunks summing to TOTAL bytes."""
    rng = random.Random(seed)
    left = total
    while left > 0:
        n = min(CHUNK, left)
        if kind == "text":
            # Base64-like letters with repetition: compresses well with zlib and LZO,
            # yet differs from chunk to chunk so reordering would be caught.
            alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            word = bytes(rng.choice(alphabet) for _ in range(64))
            block = (word + b"\n") * (n // 65 + 1)
            chunk = block[:n]
        else:
            chunk = rng.randbytes(n)
        left -= n
        yield chunk


def cmd_recv(a):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind(("::", a.port))
    srv.listen(1)
    srv.settimeout(a.idle)
    with open(a.result + ".ready", "w") as f:
        f.write("listening\n")
    conn, _peer = srv.accept()
    conn.settimeout(a.idle)
    h = hashlib.sha256()
    total = 0
    start = time.monotonic()
    last = None
    maxgap = 0.0
    buf = bytearray(CHUNK)
    while True:
        n = conn.recv_into(buf)
        now = time.monotonic()
        if last is not None:
            maxgap = max(maxgap, now - last)
        last = now
        if n == 0:
            break
        h.update(memoryview(buf)[:n])
        total += n
    secs = time.monotonic() - start
    conn.close()
    srv.close()
    line = "%d %s %.3f %.3f\n" % (total, h.hexdigest(), maxgap, secs)
    with open(a.result + ".tmp", "w") as f:
        f.write(line)
    os.rename(a.result + ".tmp", a.result)
    return 0


def cmd_send(a):
    # The receiver is known to listen already, but the first SYN may still race
    # with key exchange; retry a few times within the idle bound.
    deadline = time.monotonic() + a.idle
    while True:
        try:
            s = socket.create_connection((a.host, a.port), timeout=a.idle)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    s.settimeout(a.idle)
    h = hashlib.sha256()
    start = time.monotonic()
    sent = 0
    for chunk in data_chunks(a.bytes, a.kind, a.seed):
        if a.rate:
            due = start + sent / a.rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        s.sendall(chunk)
        h.update(chunk)
        sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    # Wait for the receiver's close so the reported time covers delivery.
    while s.recv(4096):
        pass
    s.close()
    print("%d %s %.3f" % (sent, h.hexdigest(), time.monotonic() - start))
    return 0


def read_pcap(path):
    """Yield (timestamp, linktype, bytes, original length) for every record
    of a pcap file (either byte order, micro- or nanosecond timestamps).
    An empty or truncated file ends the records; ecnhelp.py reads its
    captures with this too."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            raise SystemExit("%s: not a pcap file" % path)
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(endian + "I", hdr[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec + frac / (1e9 if nano else 1e6), linktype, data, orig


def cmd_pcap(a):
    flows = {}
    for _ts, linktype, pkt, orig in read_pcap(a.file):
        if linktype == 1:  # Ethernet
            off, etype = 14, struct.unpack(">H", pkt[12:14])[0] if len(pkt) >= 14 else 0
            lost = 14
        elif linktype == 113:  # Linux cooked v1
            off, etype = 16, struct.unpack(">H", pkt[14:16])[0] if len(pkt) >= 16 else 0
            lost = 16
        else:
            continue
        ip = pkt[off:]
        if etype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            proto = ip[9]
            src = socket.inet_ntop(socket.AF_INET, ip[12:16])
            dst = socket.inet_ntop(socket.AF_INET, ip[16:20])
            l4 = ip[ihl:]
        elif etype == 0x86DD and len(ip) >= 40:
            proto = ip[6]
            src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
            l4 = ip[40:]
        else:
            continue
        if proto == 6:
            pname = "tcp"
        elif proto == 17:
            pname = "udp"
        else:
            continue
        if len(l4) < 4:
            continue
        sport, dport = struct.unpack(">HH", l4[:4])
        key = (pname, src, dst, dport, sport)
        p, b = flows.get(key, (0, 0))
        flows[key] = (p + 1, b + orig - lost)
    for key in sorted(flows):
        p, b = flows[key]
        print("%s %s %s %d %d %d %d" % (key + (p, b)))
    return 0


def opening(kind):
    rng = random.Random(1234)
    if kind == "garbage":
        # Binary noise with a line end: parses neither as a request number nor
        # as anything else, and it must not be buffered forever.
        return rng.randbytes(300) + b"\n"
    if kind == "longline":
        return b"0 " + b"x" * 4998 + b"\n"  # a 5000-byte request line
    if kind == "outoforder":
        # METAKEY (request 1) before ID: valid syntax, wrong state.
        return b"1 427 672 4 0 " + b"AB" * 256 + b"\n"
    if kind == "none":
        return b""
    raise SystemExit("unknown probe kind " + kind)


def cmd_probe(a):
    s = socket.create_connection((a.host, a.port), timeout=5)
    s.settimeout(a.wait)
    result = None
    try:
        s.sendall(opening(a.kind))
        # Give the daemon a moment to judge the opening before the ID arrives,
        # so a daemon that drops late is not mistaken for one that answers.
        time.sleep(0.3)
        s.sendall(b"0 " + a.name.encode() + b" 17\n")
        data = b""
        deadline = time.monotonic() + a.wait
        while b"\n" not in data and time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            got = s.recv(4096)
            if not got:
                result = "closed"
                break
            data += got
        if result is None:
            if data:
                result = "answered " + data.split(b"\n")[0].decode("ascii", "replace")
            else:
                result = "silent"
    except socket.timeout:
        result = "silent"
    except (ConnectionResetError, BrokenPipeError):
        result = "closed"
    finally:
        s.close()
    print(result)
    return 0


def cmd_udpjunk(a):
    rng = random.Random(a.seed)
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    sent = 0
    for i in range(a.count):
        size = rng.randint(1, 1600)
        try:
            s.sendto(rng.randbytes(size), (a.host, a.port))
            sent += 1
        except OSError:
            pass  # local errors (e.g. EMSGSIZE) are irrelevant here
        if i % 100 == 99:
            time.sleep(0.01)  # bounded rate: about 10000 datagrams/s at most
    s.close()
    print(sent)
    return 0


def main():
    p = argparse.ArgumentParser(description="fqtinc net-test helper")
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("recv")
    r.add_argument("port", type=int)
    r.add_argument("result")
    r.add_argument("--idle", type=float, default=20.0)

    s = sub.add_parser("send")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("bytes", type=int)
    s.add_argument("--kind", choices=("random", "text"), default="random")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--rate", type=float, default=0.0)
    s.add_argument("--idle", type=float, default=20.0)

    c = sub.add_parser("pcap")
    c.add_argument("file")

    pr = sub.add_parser("probe")
    pr.add_argument("host")
    pr.add_argument("port", type=int)
    pr.add_argument("kind")
    pr.add_argument("--name", default="nobody")
    pr.add_argument("--wait", type=float, default=2.0)

    u = sub.add_parser("udpjunk")
    u.add_argument("host")
    u.add_argument("port", type=int)
    u.add_argument("count", type=int)
    u.add_argument("--seed", type=int, default=7)

    a = p.parse_args()
    return {"recv": cmd_recv, "send": cmd_send, "pcap": cmd_pcap,
            "probe": cmd_probe, "udpjunk": cmd_udpjunk}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Hostile clients for the fqtinc adversarial tests (test/net/t_adversarial_*.sh,
t_faults.sh). Every subcommand is bounded in connections, bytes and time, talks
only to the address it is given (a daemon in a test namespace) and prints one
summary line of KEY=VALUE pairs that the shell tests parse.

  garbage HOST PORT N            N connections, each sends 4 KiB of random bytes
  longline HOST PORT N SIZE      N connections, each sends SIZE bytes without '\\n'
  badlines HOST PORT             one connection per bad opening line (unknown
                                 request numbers, wrong states, unknown names...);
                                 counts how many the daemon answered with an ID
  slowloris HOST PORT N SECS [RATE]
                                 N connections opened at once (or RATE per second),
                                 then one byte of an ID line per connection per
                                 second, for SECS after the last one opened;
                                 reports how many the daemon closed (EOF/RST)
  idle HOST PORT N SECS          N connections that never send anything
  udpjunk HOST PORT SECS PPS     random datagrams (1..1500 bytes) for SECS seconds at
                                 about PPS per second
  udpreplay PCAP DPORT HOST PORT [COUNT [SRC SPORT]]
                                 resend the UDP payloads sent to DPORT in PCAP (an
                                 Ethernet capture) to HOST:PORT, COUNT times each;
                                 with SRC and SPORT from that IPv4 source (a raw
                                 socket: SRC must be local or routable back)
"""

import os
import random
import select
import socket
import struct
import sys
import time


def connect(host, port, timeout=3.0):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def closed_by_peer(s, wait=0.0):
    """True if the peer closed (EOF or reset); data, if any, is discarded."""
    try:
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            return False
        return s.recv(65536) == b''
    except (ConnectionResetError, BrokenPipeError, OSError):
        return True


def send_quietly(s, data):
    try:
        s.sendall(data)
        return True
    except OSError:
        return False


def cmd_garbage(host, port, n):
    rng = random.Random(1)
    closed = 0
    socks = []
    for i in range(n):
        s = connect(host, port)
        send_quietly(s, bytes(rng.getrandbits(8) for _ in range(4096)))
        socks.append(s)
    time.sleep(1.0)
    for s in socks:
        closed += closed_by_peer(s, 0.05)
        s.close()
    print("garbage connections=%d closed=%d" % (n, closed))


def cmd_longline(host, port, n, size):
    sent_total = 0
    socks = []
    for i in range(n):
        s = connect(host, port)
        s.setblocking(False)
        chunk = b'0 ' + b'A' * 65534
        sent = 0
        deadline = time.time() + 1
        while sent < size and time.time() < deadline:
            try:
                sent += s.send(chunk[:min(len(chunk), size - sent)])
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        sent_total += sent
        socks.append(s)
    print("longline connections=%d bytes=%d" % (n, sent_total))
    for s in socks:
        s.close()


BAD_OPENINGS = [
    b"99 x\n", b"5 status\n", b"6 error\n", b"18 0\n", b"-1\n", b"4294967296 x\n",
    b"12 1 a b 1.2.3.4 655 c 1\n",         # ADD_EDGE before authentication
    b"17 100\n" + b"x" * 100,              # PACKET before authentication
    b"15 a b\n",                            # REQ_KEY before authentication
    b"1 429 672 0 0 00\n",                  # METAKEY before ID
    b"0 nobody_known 17\n",                 # unknown identity
    b"0 bad-name 17\n",                     # invalid name
    b"0 x 16\n",                            # wrong protocol version
    b"\n", b" \n", b"\x00\x01\x02\n", b"0\n",
    b"0 " + b"n" * 3000 + b" 17\n",         # overlong field / line
]


def cmd_badlines(host, port):
    answered = 0
    closed = 0
    for line in BAD_OPENINGS:
        s = connect(host, port)
        send_quietly(s, line)
        # A daemon that accepted the line would answer an ID with its own ID.
        try:
            r, _, _ = select.select([s], [], [], 0.2)
            if r:
                data = s.recv(4096)
                if data == b'':
                    closed += 1
                elif data.startswith(b'0 '):
                    answered += 1
        except OSError:
            closed += 1
        s.close()
    print("badlines lines=%d answered=%d closed=%d" % (len(BAD_OPENINGS), answered, closed))


def cmd_slowloris(host, port, n, secs, rate=0.0):
    """rate 0: open all N at once; else open them at RATE per second (to stay
    under the daemon's new-connection limit, so that every one of them is a
    real, authenticating connection). Every connection gets one more byte of
    an ID line each second and never a whole line."""
    socks, failed, pos = [], 0, {}
    line = b"0 slowloris%d 17\n"
    start = time.time()
    next_trickle = start
    closed = 0
    last_open = None  # SECS count from the moment the last connection opened
    while last_open is None or time.time() - last_open < secs:
        want = n if rate <= 0 else min(n, int((time.time() - start) * rate) + 1)
        while len(socks) + failed + closed < want:
            try:
                socks.append(connect(host, port))
                pos[socks[-1]] = 0
            except OSError:
                failed += 1
            if time.time() >= next_trickle:
                break  # keep trickling while a long connect phase goes on
        if last_open is None and len(socks) + failed + closed >= n:
            last_open = time.time()
        if time.time() >= next_trickle:
            still = []
            for s in socks:
                if closed_by_peer(s):
                    s.close()
                    closed += 1
                    continue
                text = line % (id(s) & 0xffff)
                if pos[s] < len(text) - 1:
                    send_quietly(s, text[pos[s]:pos[s] + 1])
                    pos[s] += 1
                still.append(s)
            socks = still
            next_trickle += 1.0
        time.sleep(0.02)
    remaining = 0
    for s in socks:
        if closed_by_peer(s, 0.01):
            closed += 1
        else:
            remaining += 1
        s.close()
    print("slowloris connections=%d connect_failed=%d open_at_end=%d closed=%d connect_secs=%.1f" %
          (closed + remaining, failed, remaining, closed, last_open - start))


def cmd_idle(host, port, n, secs):
    socks = []
    for i in range(n):
        try:
            socks.append(connect(host, port))
        except OSError:
            pass
    time.sleep(secs)
    remaining = sum(1 for s in socks if not closed_by_peer(s, 0.01))
    for s in socks:
        s.close()
    print("idle connections=%d open_at_end=%d" % (len(socks), remaining))


def cmd_udpjunk(host, port, secs, pps):
    rng = random.Random(2)
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    sent = 0
    start = time.time()
    interval = 1.0 / pps
    next_t = start
    while time.time() - start < secs:
        size = rng.randint(1, 1500)
        try:
            s.sendto(os.urandom(size), (host, port))
            sent += 1
        except OSError:
            pass
        next_t += interval
        delay = next_t - time.time()
        if delay > 0:
            time.sleep(delay)
    print("udpjunk datagrams=%d seconds=%.1f" % (sent, time.time() - start))


def pcap_udp_payloads(path, dport):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(data):
        incl = struct.unpack(endian + 'I', data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            pkt = pkt[14:]
        elif linktype == 113:  # Linux cooked
            pkt = pkt[16:]
        if not pkt:
            continue
        if pkt[0] >> 4 == 4 and pkt[9] == 17:
            ihl = (pkt[0] & 15) * 4
            udp = pkt[ihl:]
        elif pkt[0] >> 4 == 6 and pkt[6] == 17:
            udp = pkt[40:]
        else:
            continue
        if len(udp) >= 8 and struct.unpack('>H', udp[2:4])[0] == dport:
            out.append(udp[8:])
    return out


def ipv4_udp(src, sport, dst, dport, payload):
    """An IPv4/UDP packet for a raw socket (UDP checksum 0: none)."""
    udp = struct.pack('>HHHH', sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    words = struct.unpack('>10H', hdr)
    csum = sum(words)
    while csum >> 16:
        csum = (csum & 0xffff) + (csum >> 16)
    hdr = hdr[:10] + struct.pack('>H', ~csum & 0xffff) + hdr[12:]
    return hdr + udp


def cmd_udpreplay(path, dport, host, port, count, src=None, sport=None):
    payloads = pcap_udp_payloads(path, dport)
    sent = 0
    if src:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        for _ in range(count):
            for p in payloads:
                s.sendto(ipv4_udp(src, sport, host, port, p), (host, 0))
                sent += 1
    else:
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        for _ in range(count):
            for p in payloads:
                s.sendto(p, (host, port))
                sent += 1
    print("udpreplay captured=%d sent=%d" % (len(payloads), sent))


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        sys.exit(2)
    cmd = a[0]
    if cmd == 'garbage':
        cmd_garbage(a[1], int(a[2]), min(int(a[3]), 500))
    elif cmd == 'longline':
        cmd_longline(a[1], int(a[2]), min(int(a[3]), 50), min(int(a[4]), 1 << 24))
    elif cmd == 'badlines':
        cmd_badlines(a[1], int(a[2]))
    elif cmd == 'slowloris':
        cmd_slowloris(a[1], int(a[2]), min(int(a[3]), 1000), min(float(a[4]), 60),
                      float(a[5]) if len(a) > 5 else 0.0)
    elif cmd == 'idle':
        cmd_idle(a[1], int(a[2]), min(int(a[3]), 1000), min(float(a[4]), 60))
    elif cmd == 'udpjunk':
        cmd_udpjunk(a[1], int(a[2]), min(float(a[3]), 60), min(int(a[4]), 200000))
    elif cmd == 'udpreplay':
        cmd_udpreplay(a[1], int(a[2]), a[3], int(a[4]), min(int(a[5]) if len(a) > 5 else 1, 100),
                      a[6] if len(a) > 7 else None, int(a[7]) if len(a) > 7 else None)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""A tiny proxy for the integration tests (test/net/t_proxy.sh).

  proxyd.py serve PORT LOG [--user U --password P] [--host NAME=ADDR ...]
      One listening port speaking SOCKS4, SOCKS4a, SOCKS5 (no authentication,
      or user/password when --user is given) and HTTP CONNECT, told apart by
      the first byte.  Every granted or refused request is logged as one
      line: "GRANT|REFUSE KIND HOST PORT from PEER".  Names are looked up in
      the --host table only (no DNS in the test namespaces).

  proxyd.py pipe PROXY_HOST PROXY_PORT HOST PORT
      For `Proxy = exec`: ask the HTTP proxy for HOST:PORT, then relay
      stdin/stdout to it.
"""
import asyncio
import ipaddress
import os
import socket
import struct
import sys


class Proxy:
    def __init__(self, log, user, password, hosts):
        self.log = open(log, "a", buffering=1)
        self.user = user
        self.password = password
        self.hosts = hosts

    def note(self, verdict, kind, host, port, peer):
        self.log.write(f"{verdict} {kind} {host} {port} from {peer[0]}\n")

    def resolve(self, host):
        if host in self.hosts:
            return self.hosts[host]
        ipaddress.ip_address(host)  # raises for unknown names
        return host

    async def handle(self, reader, writer):
        peer = writer.get_extra_info("peername")
        try:
            first = await reader.readexactly(1)
            if first == b"\x04":
                await self.socks4(reader, writer, peer)
            elif first == b"\x05":
                await self.socks5(reader, writer, peer)
            elif first == b"C":
                await self.http(reader, writer, peer)
            else:
                writer.close()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError):
            writer.close()

    async def connect_and_relay(self, reader, writer, host, port, grant, refuse, kind, peer):
        try:
            target = self.resolve(host)
            treader, twriter = await asyncio.open_connection(target, port)
        except (OSError, ValueError):
            self.note("REFUSE", kind, host, port, peer)
            writer.write(refuse)
            await writer.drain()
            writer.close()
            return
        self.note("GRANT", kind, host, port, peer)
        writer.write(grant)
        await writer.drain()
        await asyncio.gather(relay(reader, twriter), relay(treader, writer))

    async def socks4(self, reader, writer, peer):
        cmd, port, addr = struct.unpack("!BH4s", await reader.readexactly(7))
        await reader.readuntil(b"\0")  # user id
        kind = "socks4"
        host = socket.inet_ntoa(addr)
        if addr[:3] == b"\0\0\0" and addr[3] != 0:
            host = (await reader.readuntil(b"\0"))[:-1].decode()
            kind = "socks4a"
        await self.connect_and_relay(reader, writer, host, port, b"\0\x5a" + bytes(6),
                                     b"\0\x5b" + bytes(6), kind, peer)

    async def socks5(self, reader, writer, peer):
        n = (await reader.readexactly(1))[0]
        methods = await reader.readexactly(n)
        want = 2 if self.user else 0
        if want not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            self.note("REFUSE", "socks5", "-", "-", peer)
            writer.close()
            return
        writer.write(bytes([5, want]))
        kind = "socks5"
        if want == 2:
            ver, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            plen = (await reader.readexactly(1))[0]
            password = (await reader.readexactly(plen)).decode()
            ok = user == self.user and password == self.password
            writer.write(b"\x01" + (b"\0" if ok else b"\x01"))
            if not ok:
                await writer.drain()
                self.note("REFUSE", "socks5-auth", user, "-", peer)
                writer.close()
                return
            kind = "socks5-auth"
        ver, cmd, _, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        else:
            hl = (await reader.readexactly(1))[0]
            host = (await reader.readexactly(hl)).decode()
            kind += "-name"
        port = struct.unpack("!H", await reader.readexactly(2))[0]
        ok = b"\x05\x00\x00\x01" + bytes(6)
        bad = b"\x05\x05\x00\x01" + bytes(6)
        await self.connect_and_relay(reader, writer, host, port, ok, bad, kind, peer)

    async def http(self, reader, writer, peer):
        head = b"C" + await reader.readuntil(b"\r\n\r\n")
        line = head.split(b"\r\n")[0].decode()
        method, target, _ = line.split(" ")
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        await self.connect_and_relay(reader, writer, host, int(port),
                                     b"HTTP/1.1 200 Connection established\r\nProxy-Agent: proxyd\r\n\r\n",
                                     b"HTTP/1.1 502 Bad Gateway\r\n\r\n", "http", peer)


async def relay(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def serve(argv):
    port, log = int(argv[0]), argv[1]
    user = password = None
    hosts = {}
    i = 2
    while i < len(argv):
        if argv[i] == "--user":
            user = argv[i + 1]
        elif argv[i] == "--password":
            password = argv[i + 1]
        elif argv[i] == "--host":
            name, addr = argv[i + 1].split("=", 1)
            hosts[name] = addr
        i += 2
    proxy = Proxy(log, user, password, hosts)
    server = await asyncio.start_server(proxy.handle, "0.0.0.0", port)
    open(log + ".ready", "w").close()
    async with server:
        await server.serve_forever()


def pipe(argv):
    phost, pport, host, port = argv[0], int(argv[1]), argv[2], argv[3]
    s = socket.create_connection((phost, pport))
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(1)
        if not chunk:
            sys.exit(1)
        buf += chunk
    if not buf.startswith(b"HTTP/1.1 200"):
        sys.exit(1)
    # relay in two processes: stdin -> socket here, socket -> stdout in a child
    if os.fork() == 0:
        while True:
            data = s.recv(65536)
            if not data:
                os._exit(0)
            os.write(1, data)
    while True:
        data = os.read(0, 65536)
        if not data:
            s.shutdown(socket.SHUT_WR)
            break
        s.sendall(data)
    os.wait()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        asyncio.run(serve(sys.argv[2:]))
    elif sys.argv[1] == "pipe":
        pipe(sys.argv[2:])
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Demo peers for screenshots and manual checks: two TCP clients of a sockdbg server on
127.0.0.1:PORT that send plain text, GBK text, a GBK character split across two writes,
and a 4-byte length-prefixed message (all text in GBK, as a device set to GBK would send
it); then they stay connected for SECONDS and write what they receive to OUT (hex, one line
per read).

Usage: demo_peers.py [PORT [SECONDS [OUT [WAIT_PORT]]]]. With WAIT_PORT they first wait (up to
10 s) until something listens on 127.0.0.1:WAIT_PORT: a relay's target, which must be up before
the relay is given a client, or the relay closes it as unreachable."""
import socket
import struct
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 6001
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
out = sys.argv[3] if len(sys.argv) > 3 else "/tmp/sockdbg-demo-received.txt"
wait_port = int(sys.argv[4]) if len(sys.argv) > 4 else None

if wait_port is not None:
    give_up = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", wait_port), timeout=1).close()
            break
        except OSError:
            if time.time() > give_up:
                sys.exit(f"demo_peers: nothing listens on 127.0.0.1:{wait_port}")
            time.sleep(0.05)

a = socket.create_connection(("127.0.0.1", port), timeout=5)
b = socket.create_connection(("127.0.0.1", port), timeout=5)
for s in (a, b):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
a.sendall(b"hello\r\n")
time.sleep(0.2)
b.sendall("你好，世界 (GBK)\r\n".encode("gbk"))
time.sleep(0.2)
split = "中文 split across reads\n".encode("gbk")
a.sendall(split[:1])
time.sleep(0.2)
a.sendall(split[1:])
time.sleep(0.2)
payload = "温度=25.5".encode("gbk")
b.sendall(struct.pack("i", len(payload)) + payload)
a.settimeout(0.2)
b.settimeout(0.2)
deadline = time.time() + seconds
with open(out, "w") as f:
    while time.time() < deadline:
        for name, s in (("a", a), ("b", b)):
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if data:
                f.write(f"{name} {data.hex()}\n")
                f.flush()

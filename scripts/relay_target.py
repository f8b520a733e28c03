#!/usr/bin/env python3
"""A target for relay screenshots and manual checks: listens on 127.0.0.1:PORT for SECONDS
and answers each line a client sends with `ok: LINE` (bytes as they came, so GBK stays GBK)."""
import socket
import sys
import threading
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 7001
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30


def serve(conn):
    with conn:
        pending = b""
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                conn.sendall(b"ok: " + line + b"\n")


listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
listener.settimeout(0.5)
end = time.time() + seconds
while time.time() < end:
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

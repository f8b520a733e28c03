#!/usr/bin/env python3
"""Round trips of a 64-byte ping through a relay, for scripts/bench.sh relay: an echo server
(its own process) on 127.0.0.1:ECHO_PORT, and a client that sends 64 bytes and waits for them
back, COUNT times, directly and through each relay listening on a RELAY=PORT given.

Usage: relay_latency.py ECHO_PORT COUNT NAME=PORT [NAME=PORT ...]
Prints, per path, the p50 and p99 round trip and what the relay adds to the direct path's
p50 and p99."""
import multiprocessing
import socket
import sys
import time

PING = bytes(range(64))


def echo(port, ready):
    listener = socket.create_server(("127.0.0.1", port))
    ready.set()
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data)
        conn.close()


def round_trips(port, count):
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for i in range(count + 100):
        start = time.perf_counter_ns()
        conn.sendall(PING)
        got = b""
        while len(got) < len(PING):
            chunk = conn.recv(4096)
            if not chunk:
                raise SystemExit(f"port {port}: closed after {i} round trips")
            got += chunk
        if got != PING:
            raise SystemExit(f"port {port}: the echo differs")
        if i >= 100:  # the first ones warm up
            times.append(time.perf_counter_ns() - start)
    conn.close()
    times.sort()
    return times[len(times) // 2] / 1000, times[len(times) * 99 // 100] / 1000


def main():
    echo_port, count = int(sys.argv[1]), int(sys.argv[2])
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=echo, args=(echo_port, ready), daemon=True)
    server.start()
    ready.wait(5)
    direct = round_trips(echo_port, count)
    print(f"direct: p50 {direct[0]:.1f} us, p99 {direct[1]:.1f} us ({count} round trips of 64 B)")
    for arg in sys.argv[3:]:
        name, port = arg.split("=")
        p50, p99 = round_trips(int(port), count)
        print(f"{name}: p50 {p50:.1f} us, p99 {p99:.1f} us; added p50 {p50 - direct[0]:.1f} us, "
              f"added p99 {p99 - direct[1]:.1f} us")
    server.terminate()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Sends one datagram from each of N distinct source addresses (127.0.0.2, .3, ... with
ports 10000-59999) to a UDP server: a port scan or flood from many sources, as seen by
sockdbg's peer table. Loopback only.

usage: udp_scan.py HOST:PORT [N]   (default N = 100000)
"""
import socket
import sys

PORTS = range(10000, 60000)


def main() -> None:
    host, port = sys.argv[1].rsplit(":", 1)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    target = (host, int(port))
    for n in range(count):
        ip = f"127.0.0.{2 + n // len(PORTS)}"
        source = (ip, PORTS[n % len(PORTS)])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(source)
            s.sendto(b"scan", target)
    print(f"sent {count} datagrams from {count} sources", file=sys.stderr)


if __name__ == "__main__":
    main()

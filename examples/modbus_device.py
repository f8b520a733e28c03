#!/usr/bin/env python3
"""A Modbus-RTU-style device on TCP, for trying scenarios (examples/modbus.sdbg).

Each request is 8 bytes: unit, function, register (2 bytes), count (2 bytes), CRC-16/MODBUS
(low byte first). Function 03 with count 1 answers the register's value (register * 10) as
unit, 03, 02, value (2 bytes), CRC. Any other function gets the exception answer
unit, function | 0x80, 01 (illegal function), CRC. Usage: modbus_device.py [PORT] (0 picks a
free port; the port is printed once listening).
"""
import socket
import struct
import sys
import threading


def crc16_modbus(data: bytes) -> bytes:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def answer(request: bytes) -> bytes:
    unit, function, register, count = struct.unpack(">BBHH", request[:6])
    if crc16_modbus(request[:6]) != request[6:8]:
        return b""  # a real device ignores a frame with a bad CRC
    if function == 3 and count == 1:
        body = struct.pack(">BBBH", unit, 3, 2, register * 10)
    else:
        body = struct.pack(">BBB", unit, function | 0x80, 1)
    return body + crc16_modbus(body)


def serve(conn: socket.socket) -> None:
    pending = b""
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                return
            pending += data
            while len(pending) >= 8:
                request, pending = pending[:8], pending[8:]
                conn.sendall(answer(request))


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1502
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    print(server.getsockname()[1], flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()

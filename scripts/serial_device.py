#!/usr/bin/env python3
"""A pretend serial device on the far end of a pseudo-terminal pair (socat), for screenshots
and manual checks of a serial session: it puts its end in raw mode, says hello\r\n, then for
SECONDS answers each line it reads (AT -> OK, AT+GMR -> a version, anything else -> ERROR)
and with --tick sends a temperature reading every second. What it reads goes to OUT (hex,
one line per read).

Usage: serial_device.py FAR_PTY [SECONDS] [OUT] [--tick]
"""
import os
import select
import sys
import termios
import time
import tty

path = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30
out = sys.argv[3] if len(sys.argv) > 3 else os.devnull
tick = "--tick" in sys.argv[4:]

fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd, termios.TCSANOW)
os.write(fd, b"hello\r\n")
answers = {b"AT": b"OK\r\n", b"AT+GMR": b"AT version:1.7.4 (sockdbg demo)\r\nOK\r\n"}
pending = b""
deadline = time.time() + seconds
next_reading = time.time() + 1
reading = 0
with open(out, "w") as f:
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            f.write(data.hex() + "\n")
            f.flush()
            pending += data
            while b"\n" in pending or b"\r" in pending:
                cut = min(i for i in (pending.find(b"\r"), pending.find(b"\n")) if i >= 0)
                line, pending = pending[:cut], pending[cut + 1 :]
                if line:
                    os.write(fd, answers.get(line.strip(), b"ERROR\r\n"))
        if tick and time.time() >= next_reading:
            reading += 1
            os.write(fd, f"T={20 + reading % 7}.{reading % 10} C\r\n".encode())
            next_reading += 1

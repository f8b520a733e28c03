#!/usr/bin/python3
"""Drives the real window for the README's relay screenshot (scripts/relay_screenshot.sh),
inside a `tree.sh --hook`: telnet has said hello through the relay and the Python target has
answered; the hook injects a line toward the target from the send box, holds the up
direction in the Relay tab, has telnet send a line (it waits in the queue, counted), and
applies a fault while the relay runs. Lines for telnet go to the FIFO given.

Usage: relay_hook.py TELNET_FIFO
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shots_hook import button_named, click_and_dump, dump, find  # noqa: E402


def type_text(text):
    subprocess.run(["xdotool", "type", "--delay", "20", text], check=True, timeout=30)


def press(node, what):
    """Clicks `node`, saying so on stderr (or that it is missing)."""
    if node is None:
        raise SystemExit(f"relay_hook: no {what}")
    print(f"relay_hook: {what} at {node['x']},{node['y']}", file=sys.stderr)
    return click_and_dump(node)


def main():
    fifo = sys.argv[1]
    nodes = dump("--until-text", "ok: hello", "--timeout", "20")
    # Keys go to the focused window: give it the focus first.
    subprocess.run(["xdotool", "search", "--name", "sockdbg", "windowfocus"], timeout=10)
    send_box = find(nodes, lambda n: n["role"] == "entry" and not n.get("name"))
    press(send_box, "send box")
    type_text("STATUS?\\r\\n")
    subprocess.run(["xdotool", "key", "ctrl+Return"], check=True, timeout=10)
    time.sleep(0.8)
    nodes = dump("--until-text", "ok: STATUS?", "--timeout", "15")
    nodes = press(button_named(nodes, ("Relay",)), "Relay tab")
    nodes = press(button_named(nodes, ("Hold",)), "Hold")
    with open(fifo, "w", encoding="ascii") as f:
        f.write("set led on\r\n")
    nodes = dump("--until-text", "held: 1 chunk", "--timeout", "15")
    field = find(nodes, lambda n: n["role"] == "entry" and n.get("name") == "Faults")
    subprocess.run(["xdotool", "search", "--name", "sockdbg", "windowfocus"], timeout=10)
    press(field, "faults field")
    type_text("down.delay=250, down.slice=4")
    time.sleep(0.5)
    nodes = press(button_named(nodes, ("Apply",)), "Apply")
    # The log's first row (the relay's start) shows the whole session: no entry selected.
    subprocess.run(["xdotool", "mousemove", "1", "1"], check=True, timeout=10)
    time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

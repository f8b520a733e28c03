#!/usr/bin/python3
"""Drives the real window for the README's load-test screenshot (scripts/load_screenshot.sh),
inside a `tree.sh --hook`: the Load test tab is open with its target proposed from the
selected client session; the hook sets connections, duration and rate, presses Start test,
lets the run go for a few seconds and scrolls the tab to its live figures and plots.

Usage: load_hook.py CONNECTIONS DURATION_MS RATE RUN_SECONDS
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shots_hook import LOAD_START, button_named, click, dump, find, set_field  # noqa: E402


def main():
    connections, duration_ms, rate, run_s = sys.argv[1:5]
    nodes = dump("--until-text", "Start test", "--timeout", "20")
    for names, text in [(("Connections",), connections), (("Duration (ms)",), duration_ms),
                        (("Messages/s",), rate)]:
        if not set_field(nodes, names, text):
            return 1
    time.sleep(0.5)
    nodes = dump("--stable", "2", "--timeout", "15")
    start = button_named(nodes, LOAD_START)
    if start is None:
        print("load_hook: no Start test button", file=sys.stderr)
        return 1
    click(start)
    time.sleep(float(run_s))
    # Scroll the tab past the form, to the figures and the plots.
    label = find(nodes, lambda n: n["role"] == "label" and n.get("name") == "Target")
    if label is not None:
        x, y = str(label["x"] + 40), str(label["y"] + 200)
        subprocess.run(["xdotool", "mousemove", x, y], check=True, timeout=10)
        for _ in range(8):
            subprocess.run(["xdotool", "click", "5"], check=True, timeout=10)
            time.sleep(0.05)
        subprocess.run(["xdotool", "mousemove", "1", "1"], check=True, timeout=10)
    time.sleep(1.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

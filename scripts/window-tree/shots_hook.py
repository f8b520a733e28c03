#!/usr/bin/python3
"""Drives the real window inside a `tree.sh --hook` for `scripts/window_shots.sh`: waits until
a log row containing WAIT_TEXT is drawn, clicks it (the detail pane opens), saves the tree and a
screenshot of that state (OUT_PREFIX.jsonl/.png), then opens the Settings menu, which `tree.sh`
captures as its final state. Uses only the environment tree.sh sets (TREE_DUMP, DISPLAY).

Usage: shots_hook.py OUT_PREFIX WAIT_TEXT
"""
import json
import os
import shlex
import subprocess
import sys
import time

SETTINGS = ("Settings", "设置")


def dump(*extra):
    cmd = shlex.split(os.environ["TREE_DUMP"]) + list(extra)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def click(node):
    x = node["x"] + node["w"] // 2
    y = node["y"] + node["h"] // 2
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True, timeout=10)


def find(nodes, predicate):
    return next((n for n in nodes if n.get("x") is not None and predicate(n)), None)


def main():
    prefix, wait_text = sys.argv[1], sys.argv[2]
    nodes = dump("--until-text", wait_text, "--timeout", "15")
    row = find(nodes, lambda n: n["role"] == "label" and wait_text in (n.get("name") or ""))
    if row is None:
        print(f"shots_hook: no row with {wait_text!r}", file=sys.stderr)
        return 1
    click(row)
    time.sleep(0.8)
    nodes = dump("--stable", "2", "--timeout", "15")
    with open(prefix + ".jsonl", "w", encoding="utf-8") as f:
        for n in nodes:
            f.write(json.dumps(n, ensure_ascii=False) + "\n")
    subprocess.run(["import", "-window", "root", prefix + ".png"], check=True, timeout=30)
    settings = find(nodes, lambda n: n["role"].endswith("button") and n.get("name") in SETTINGS)
    if settings is None:
        print("shots_hook: no Settings button", file=sys.stderr)
        return 1
    click(settings)
    time.sleep(0.8)
    return 0


if __name__ == "__main__":
    sys.exit(main())

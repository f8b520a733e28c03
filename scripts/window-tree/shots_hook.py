#!/usr/bin/python3
"""Drives the real window inside a `tree.sh --hook` for `scripts/window_shots.sh`: waits until
a log row containing WAIT_TEXT is drawn, clicks it (the detail pane opens), saves the tree and a
screenshot of that state (OUT_PREFIX.jsonl/.png); then shows each tab of the settings column in
turn (opening it from the toolbar's Tools toggle first when the window is narrow and the column
is a popup), saving OUT_PREFIX-tab-N.jsonl/.png for each; then opens the Settings menu, which
`tree.sh` captures as its final state. Uses only the environment tree.sh sets (TREE_DUMP,
DISPLAY).

Usage: shots_hook.py OUT_PREFIX WAIT_TEXT
"""
import json
import os
import shlex
import subprocess
import sys
import time

SETTINGS = ("Settings", "设置")
TOOLS = ("Tools", "工具")
# The settings column's tabs, in order, in English and Chinese.
TABS = [
    ("Log", "日志"),
    ("Sending", "发送选项"),
    ("Commands", "指令"),
    ("Auto-reply", "自动回复"),
    ("Save", "保存"),
]
# Tabs only some sessions have (a relay's): shot after the others when present.
OPTIONAL_TABS = [
    ("Relay", "中继"),
]


def dump(*extra):
    cmd = shlex.split(os.environ["TREE_DUMP"]) + list(extra)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def save(prefix, nodes):
    with open(prefix + ".jsonl", "w", encoding="utf-8") as f:
        for n in nodes:
            f.write(json.dumps(n, ensure_ascii=False) + "\n")
    subprocess.run(["import", "-window", "root", prefix + ".png"], check=True, timeout=30)


def click(node):
    x = node["x"] + node["w"] // 2
    y = node["y"] + node["h"] // 2
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True, timeout=10)
    # Move away, so no tooltip covers what is captured next.
    subprocess.run(["xdotool", "mousemove", "1", "1"], check=True, timeout=10)


def click_and_dump(node):
    """Clicks `node`, waits for the window to settle, and returns its tree."""
    click(node)
    time.sleep(0.8)
    return dump("--stable", "2", "--timeout", "15")


def find(nodes, predicate):
    return next((n for n in nodes if n.get("x") is not None and predicate(n)), None)


def button_named(nodes, names):
    return find(nodes, lambda n: n["role"].endswith("button") and n.get("name") in names)


def main():
    prefix, wait_text = sys.argv[1], sys.argv[2]
    nodes = dump("--until-text", wait_text, "--timeout", "15")
    row = find(nodes, lambda n: n["role"] == "label" and wait_text in (n.get("name") or ""))
    if row is None:
        print(f"shots_hook: no row with {wait_text!r}", file=sys.stderr)
        return 1
    nodes = click_and_dump(row)
    save(prefix, nodes)

    # The settings column's tabs: beside the log, or a popup opened from the toolbar.
    opened = False
    if button_named(nodes, TABS[0]) is None:
        tools = button_named(nodes, TOOLS)
        if tools is None:
            print("shots_hook: no Tools toggle", file=sys.stderr)
            return 1
        nodes = click_and_dump(tools)
        opened = True
    for number, names in enumerate(TABS, start=1):
        tab = button_named(nodes, names)
        if tab is None:
            print(f"shots_hook: no tab {names[0]}", file=sys.stderr)
            return 1
        nodes = click_and_dump(tab)
        save(f"{prefix}-tab-{number}", nodes)
    for number, names in enumerate(OPTIONAL_TABS, start=len(TABS) + 1):
        tab = button_named(nodes, names)
        if tab is not None:
            nodes = click_and_dump(tab)
            save(f"{prefix}-tab-{number}", nodes)
    if opened:
        nodes = click_and_dump(button_named(nodes, TOOLS))

    settings = button_named(nodes, SETTINGS)
    if settings is None:
        print("shots_hook: no Settings button", file=sys.stderr)
        return 1
    click(settings)
    time.sleep(0.8)
    return 0


if __name__ == "__main__":
    sys.exit(main())

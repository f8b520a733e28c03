#!/usr/bin/python3
"""Drives the real window inside a `tree.sh --hook` for `scripts/window_shots.sh`: waits until
a log row containing WAIT_TEXT is drawn, clicks it (the detail pane opens), saves the tree and a
screenshot of that state (OUT_PREFIX.jsonl/.png); then shows each tab of the settings column in
turn (opening it from the toolbar's Tools toggle first when the window is narrow and the column
is a popup), saving OUT_PREFIX-tab-N.jsonl/.png for each; then opens the Settings menu, which
`tree.sh` captures as its final state. Uses only the environment tree.sh sets (TREE_DUMP,
DISPLAY).

With --serial-form, right after the first state it also opens the serial create form (More
transports..., Create Serial Port), saves OUT_PREFIX-serial-form.jsonl/.png, and closes it
again (and the session list it expanded in a narrow window), so the later steps cannot keep
it from being shot.

Usage: shots_hook.py OUT_PREFIX WAIT_TEXT [--serial-form]
"""
import json
import os
import shlex
import socketserver
import subprocess
import sys
import threading
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
    ("Scenarios", "场景"),
    ("Load test", "压力测试"),
]
# Tabs only some sessions have (a relay's): shot after the others when present.
OPTIONAL_TABS = [
    ("Relay", "中继"),
]
# The Scenarios tab loads this file through its file field and Open button.
SCENARIO_FILE = "examples/modbus.sdbg"
SCENARIO_FIELD = ("Scenario file", "场景文件")
OPEN = ("Open", "打开")
MORE_KINDS = ("More transports…", "更多协议…")
CREATE_SERIAL = ("Create Serial Port", "新建 串口")
SHOW_SESSIONS = ("Show the session list", "显示会话列表")
HIDE_SESSIONS = ("Hide the session list", "隐藏会话列表")
CANCEL = ("Cancel", "取消")


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


def is_field(node):
    return node["role"] == "entry" or "text" in node["role"]


def button_named(nodes, names):
    return find(nodes, lambda n: n["role"].endswith("button") and n.get("name") in names)


def load_scenario(nodes):
    """Types SCENARIO_FILE into the Scenarios tab's file field and opens it; the tree after."""
    # AT-SPI calls a text field "entry" (older versions "text").
    field = find(nodes, lambda n: is_field(n) and n.get("name") in SCENARIO_FIELD)
    if field is None:
        print("shots_hook: no scenario file field", file=sys.stderr)
        return None
    x = field["x"] + field["w"] // 2
    y = field["y"] + field["h"] // 2
    focus_window()
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True, timeout=10)
    path = os.path.abspath(SCENARIO_FILE)
    subprocess.run(["xdotool", "type", "--delay", "15", path], check=True, timeout=60)
    time.sleep(0.5)
    nodes = dump("--stable", "2", "--timeout", "15")
    button = button_named(nodes, OPEN)
    if button is None:
        print("shots_hook: no Open button", file=sys.stderr)
        return None
    click(button)
    # The file is in when its one error shows: ${port} has no value without Variables.
    return dump("--until-text", "4:30:", "--stable", "2", "--timeout", "15")


# The Load test tab runs a short test against an echo server of this hook's own (so the
# sessions' logs stay as they are), and the live figures, plots and summary are laid out and
# checked too.
LOAD_FIELDS = [
    (("Duration (ms)", "时长（毫秒）"), "2500"),
    (("Messages/s", "每秒消息数"), "40"),
]
LOAD_START = ("Start test", "开始测试")
LOAD_DONE = ("Summary", "汇总")


def focus_window():
    """Keys go to the focused window; without a window manager nothing focuses it on a click."""
    window = subprocess.run(["xdotool", "search", "--name", "sockdbg"], capture_output=True,
                            text=True, timeout=10).stdout.split()
    if window:
        subprocess.run(["xdotool", "windowfocus", window[0]], timeout=10)


def set_field(nodes, names, text):
    """Replaces the text of the field named one of `names` by typing, and checks it took (keys
    typed while the window is busy can be lost: then it types again); False if it is missing
    or never took."""
    for _ in range(3):
        field = find(nodes, lambda n: is_field(n) and n.get("name") in names)
        if field is None:
            print(f"shots_hook: no field {names[0]}", file=sys.stderr)
            return False
        if field.get("text") == text:
            return True
        focus_window()
        # The middle (End puts the cursor at the end): a scroll area's bar floats over the
        # right edge of a field as wide as it, and a click there drags the bar instead.
        x = field["x"] + field["w"] // 2
        y = field["y"] + field["h"] // 2
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True,
                       timeout=10)
        subprocess.run(["xdotool", "key", "End"] + ["BackSpace"] * 40, check=True, timeout=30)
        subprocess.run(["xdotool", "type", "--delay", "40", text], check=True, timeout=30)
        time.sleep(0.3)
        nodes = dump("--stable", "2", "--timeout", "15")
    field = find(nodes, lambda n: is_field(n) and n.get("name") in names) or {}
    print(f"shots_hook: field {names[0]} did not take {text!r} (it holds {field.get('text')!r})",
          file=sys.stderr)
    return False


def echo_server():
    """An echo server on a free loopback port, served by threads of this process."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


def run_load(nodes, fields=None, until=LOAD_DONE, stable=True):
    """Fills the Load test form's `fields` (and the target: an echo server of this process),
    presses Start test and waits for `until`; the tree after (None when something is
    missing)."""
    target = ("Target", "目标"), f"tcp-client:127.0.0.1:{echo_server()}"
    for names, text in [target] + (LOAD_FIELDS if fields is None else fields):
        if not set_field(nodes, names, text):
            return None
    time.sleep(0.5)
    nodes = dump("--stable", "2", "--timeout", "15")
    start = button_named(nodes, LOAD_START)
    if start is None:
        print("shots_hook: no Start test button", file=sys.stderr)
        return None
    time.sleep(0.3)
    click(start)
    # The names of `until` in the window's language (the button's tells which).
    text = until[LOAD_START.index(start["name"])]
    extra = ["--stable", "2"] if stable else []
    return dump("--until-text", text, "--timeout", "30", *extra)


def serial_form(prefix, nodes):
    """Opens the serial create form from the session list (expanding the list first in a
    narrow window), saves that state, and closes the form (and the list it expanded); the
    tree after."""
    expanded = False
    if button_named(nodes, MORE_KINDS) is None:
        expanded = True
        expand = button_named(nodes, SHOW_SESSIONS)
        if expand is None:
            print("shots_hook: no session list to expand", file=sys.stderr)
            return None
        nodes = click_and_dump(expand)
    more = button_named(nodes, MORE_KINDS)
    if more is None:
        print("shots_hook: no More transports menu", file=sys.stderr)
        return None
    nodes = click_and_dump(more)
    create = find(nodes, lambda n: n.get("name") in CREATE_SERIAL)
    if create is None:
        print("shots_hook: no Create Serial Port", file=sys.stderr)
        return None
    nodes = click_and_dump(create)
    save(f"{prefix}-serial-form", nodes)
    cancel = button_named(nodes, CANCEL)
    if cancel is None:
        print("shots_hook: no Cancel in the serial form", file=sys.stderr)
        return None
    nodes = click_and_dump(cancel)
    if expanded:
        hide = button_named(nodes, HIDE_SESSIONS)
        if hide is None:
            print("shots_hook: no button to hide the session list", file=sys.stderr)
            return None
        nodes = click_and_dump(hide)
    return nodes


def main():
    prefix, wait_text = sys.argv[1], sys.argv[2]
    nodes = dump("--until-text", wait_text, "--timeout", "15")
    row = find(nodes, lambda n: n["role"] == "label" and wait_text in (n.get("name") or ""))
    if row is None:
        print(f"shots_hook: no row with {wait_text!r}", file=sys.stderr)
        return 1
    nodes = click_and_dump(row)
    save(prefix, nodes)
    if "--serial-form" in sys.argv[3:]:
        nodes = serial_form(prefix, nodes)
        if nodes is None:
            return 1

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
        if names == ("Scenarios", "场景"):
            nodes = load_scenario(nodes)
            if nodes is None:
                return 1
        if names == ("Load test", "压力测试"):
            nodes = run_load(nodes)
            if nodes is None:
                return 1
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
    # Tells window_shots.sh that every state was reached (a hook that stopped early would
    # otherwise only leave fewer trees to check).
    open(f"{prefix}.hook-done", "w").close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

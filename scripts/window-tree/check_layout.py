#!/usr/bin/env python3
"""Checks a window's widget tree (a `tree.sh` dump, JSON lines) for what a user would see
as broken layout, which kittest cannot see because it lays out at one size:

- outside:  a widget lies (partly) outside the window;
- border:   a widget reaches across a panel border (the "Resize panel" separators), i.e. it
            is cut by the panel that holds it or drawn over its neighbour;
- overlap:  two widgets cover each other;
- small:    text below the body size (tiny labels, small buttons);
- wrapped:  a short label broken onto a second line (squeezed).

Usage: check_layout.py TREE.jsonl [--allow KIND:SUBSTRING ...] [--json]
Prints one line per problem and exits 1 if there is any, 0 otherwise. `--allow` exempts a
problem kind for widgets whose name contains SUBSTRING (for a known, deliberate case).
Rows of a scrolled list are exempt from `outside` vertically when their parent shows a
scroll bar (they scroll into view), and are checked for what shows of them: AT-SPI gives a
row's whole box, so a row half scrolled out under the toolbar above the list is clipped to
the list's viewport (the vertical scroll bar's extent) first, and one scrolled out entirely
is not checked.

A popup (a menu, a combo box's list, a window or dialog over the main view) covers what is
under it: a widget of the main view under a popup is hidden, not overlapping; the popup's own
widgets are checked like any others (inside the window, not over each other).
"""
import argparse
import json
import sys

# Roles a user reads or clicks; containers and helper nodes are not checked.
CHECKED_ROLES = {
    "label", "push button", "toggle button", "check box", "radio button", "combo box",
    "entry", "text", "link", "menu item", "spin button", "slider", "password text",
    "heading", "image",
}
BUTTON_ROLES = {"push button", "toggle button", "check box", "radio button", "combo box"}
# Body text is ~14 px, a label row 15-16 px high, a button 18-20 px.
MIN_LABEL_HEIGHT = 13
MIN_BUTTON_HEIGHT = 18
# A label this high holds at least two lines.
WRAPPED_HEIGHT = 27
SHORT_TEXT = 24
# Overlaps and crossings smaller than this (px) are rounding, not a problem.
SLACK = 2


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def has_box(n):
    return n.get("x") is not None and n.get("w") is not None and n["w"] > 0 and n["h"] > 0


def label_of(n):
    name = (n.get("name") or n.get("text") or "").replace("\n", " ")
    return f'{n["role"]} "{name[:48]}" at {n["x"]},{n["y"]} {n["w"]}x{n["h"]}'


def overlap_1d(a0, a1, b0, b1):
    return min(a1, b1) - max(a0, b0)


# Containers drawn over the main view.
POPUP_ROLES = {"menu", "popup menu", "window", "dialog", "tool tip"}


def popups(nodes, shown):
    """Each popup container's index and the box around its shown descendants."""
    children = {}
    for n in nodes:
        children.setdefault(n.get("parent"), []).append(n)
    by_index = {n["i"]: n for n in nodes}
    found = []
    for n in nodes:
        parent = by_index.get(n.get("parent"))
        # A window inside the application's window (egui's floating windows) is a popup too.
        inner_frame = n["role"] == "frame" and parent is not None and parent["role"] != "application"
        if n["role"] not in POPUP_ROLES and not inner_frame:
            continue
        stack, members, boxes = [n], set(), []
        while stack:
            m = stack.pop()
            members.add(m["i"])
            if m["i"] in shown and m is not n:
                boxes.append(m)
            stack.extend(children.get(m["i"], []))
        if has_box(n):
            boxes.append(n)
        if not boxes:
            continue
        x0 = min(b["x"] for b in boxes)
        y0 = min(b["y"] for b in boxes)
        x1 = max(b["x"] + b["w"] for b in boxes)
        y1 = max(b["y"] + b["h"] for b in boxes)
        found.append((members, (x0, y0, x1, y1)))
    return found


def layer(n, popup_list):
    """The popup a widget belongs to (its index), or -1 for the main view."""
    for index, (members, _) in enumerate(popup_list):
        if n["i"] in members:
            return index
    return -1


def covered(n, popup_list):
    """Whether widget `n` lies under a popup it is not part of."""
    cx, cy = n["x"] + n["w"] / 2, n["y"] + n["h"] / 2
    for members, (x0, y0, x1, y1) in popup_list:
        if n["i"] not in members and x0 <= cx <= x1 and y0 <= cy <= y1:
            return True
    return False


def visible_part(n, viewports):
    """Widget `n` clipped vertically to the viewport of the scrolled list holding it (a copy),
    `n` itself when it is in none, None when none of it shows."""
    viewport = viewports.get(n["parent"])
    if viewport is None:
        return n
    top, bottom = max(n["y"], viewport[0]), min(n["y"] + n["h"], viewport[1])
    if bottom - top <= SLACK:
        return None
    if (top, bottom) == (n["y"], n["y"] + n["h"]):
        return n
    clipped = dict(n)
    clipped["y"], clipped["h"] = top, bottom - top
    clipped["clipped"] = True
    return clipped


def check(nodes):
    frame = next((n for n in nodes if n["role"] == "frame" and has_box(n)), None)
    if frame is None:
        return [("setup", "no window frame in the tree")]
    fx, fy, fw, fh = frame["x"], frame["y"], frame["w"], frame["h"]
    shown = [n for n in nodes if has_box(n) and n.get("showing", True)]
    popup_list = popups(nodes, {n["i"] for n in shown})
    scrolled_parents = {n["parent"] for n in shown if n["role"] == "scroll bar"}
    # What shows of a scrolled list: the extent of its vertical scroll bar.
    viewports = {
        n["parent"]: (n["y"], n["y"] + n["h"])
        for n in shown
        if n["role"] == "scroll bar" and n["h"] > n["w"]
    }
    widgets = [
        v for v in (visible_part(n, viewports) for n in shown
                    if n["role"] in CHECKED_ROLES and not covered(n, popup_list))
        if v is not None
    ]
    separators = [n for n in shown if n["role"] == "separator" and n.get("name") == "Resize panel"]
    problems = []

    for n in widgets:
        x0, y0, x1, y1 = n["x"], n["y"], n["x"] + n["w"], n["y"] + n["h"]
        horizontal_out = x0 < fx - SLACK or x1 > fx + fw + SLACK
        vertical_out = y0 < fy - SLACK or y1 > fy + fh + SLACK
        if n["parent"] in scrolled_parents:
            vertical_out = False
        if horizontal_out or vertical_out:
            problems.append(("outside", label_of(n)))

    for n in widgets:
        x0, y0, x1, y1 = n["x"], n["y"], n["x"] + n["w"], n["y"] + n["h"]
        for s in separators:
            # A popup's widgets lie over the main view's panels, not across them.
            if layer(n, popup_list) != layer(s, popup_list):
                continue
            sx0, sy0, sx1, sy1 = s["x"], s["y"], s["x"] + s["w"], s["y"] + s["h"]
            if s["h"] >= s["w"]:  # vertical border at the separator's middle
                mid = (sx0 + sx1) / 2
                crosses = x0 < mid - SLACK and x1 > mid + SLACK
                beside = overlap_1d(y0, y1, sy0, sy1) > SLACK
            else:
                mid = (sy0 + sy1) / 2
                crosses = y0 < mid - SLACK and y1 > mid + SLACK
                beside = overlap_1d(x0, x1, sx0, sx1) > SLACK
            if crosses and beside:
                problems.append(("border", f"{label_of(n)} crosses the panel border at {mid:.0f}"))

    for i, a in enumerate(widgets):
        for b in widgets[i + 1:]:
            # A popup is drawn over the main view: not an overlap between the two.
            if layer(a, popup_list) != layer(b, popup_list):
                continue
            dx = overlap_1d(a["x"], a["x"] + a["w"], b["x"], b["x"] + b["w"])
            dy = overlap_1d(a["y"], a["y"] + a["h"], b["y"], b["y"] + b["h"])
            if dx > SLACK and dy > SLACK:
                problems.append(("overlap", f"{label_of(a)} and {label_of(b)}"))

    for n in widgets:
        name = n.get("name") or n.get("text") or ""
        # A row half scrolled out is as high as it shows, not as it is.
        if not name.strip() or n.get("clipped"):
            continue
        if n["role"] == "label" and n["h"] < MIN_LABEL_HEIGHT:
            problems.append(("small", label_of(n)))
        elif n["role"] in BUTTON_ROLES and n["h"] < MIN_BUTTON_HEIGHT - SLACK - 1:
            problems.append(("small", label_of(n)))
        if n["role"] == "label" and n["h"] >= WRAPPED_HEIGHT and len(name) <= SHORT_TEXT:
            problems.append(("wrapped", label_of(n)))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree")
    parser.add_argument("--allow", action="append", default=[], metavar="KIND:SUBSTRING")
    parser.add_argument("--json", action="store_true", help="print problems as JSON lines")
    args = parser.parse_args()
    allowed = [tuple(a.split(":", 1)) for a in args.allow if ":" in a]
    problems = [
        (kind, text) for kind, text in check(load(args.tree))
        if not any(kind == k and s in text for k, s in allowed)
    ]
    for kind, text in problems:
        if args.json:
            print(json.dumps({"kind": kind, "problem": text}, ensure_ascii=False))
        else:
            print(f"{kind}: {text}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

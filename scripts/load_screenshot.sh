#!/usr/bin/env bash
# The README's load-test screenshot (assets/screenshots/window-load.png) from the real window
# under Xvfb: socat echoes on a free port, a TCP client session of it is selected, and the
# Load test tab runs 20 connections at 3,000 messages a second against it while the live
# figures and plots move (scripts/window-tree/load_hook.py presses Start test and scrolls to
# them). SOCKDBG_BIN (default target/release/sockdbg, else target/debug/sockdbg). Needs what
# scripts/window_shots.sh needs, and socat.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SOCKDBG_BIN:-target/release/sockdbg}
[ -x "$bin" ] || bin=target/debug/sockdbg
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
cfg=$(mktemp -d)
socat TCP-LISTEN:$port,fork,reuseaddr,bind=127.0.0.1 EXEC:cat &
socat_pid=$!
trap 'kill $socat_pid 2>/dev/null; rm -rf "$cfg"' EXIT
for _ in $(seq 50); do nc -z 127.0.0.1 "$port" && break; sleep 0.1; done
cat > "$cfg/config.ron" <<RON
(version: 2,
 view: (language: Some(English), theme: Dark, window_size: Some((1280, 800)), tools_tab: Load,
        panels: (tools_width: 560)),
 sessions: [(spec: "tcp-client:127.0.0.1:$port", running: true)])
RON
scripts/window-tree/tree.sh --timeout 30 --hook-timeout 120 --ready "Start test" \
  --hook "/usr/bin/python3 scripts/window-tree/load_hook.py 20 30000 3000 8 2>>${LOGDIR:-$cfg}/hook.err" \
  ${LOGDIR:+--logdir "$LOGDIR"} --stable 0 --until "Last second" \
  --screenshot assets/screenshots/window-load.png \
  1280x800 "${LOGDIR:-$cfg}/tree.jsonl" -- "$bin" --config-dir "$cfg" >/dev/null
echo "assets/screenshots/window-load.png"

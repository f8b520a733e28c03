#!/usr/bin/env bash
# The README's relay screenshot (assets/screenshots/window-relay.png) from the real window
# under Xvfb: telnet talks to a Python server (scripts/relay_target.py) through a TCP relay;
# a line is injected toward the server from the send box, up is held with one line waiting,
# and a fault is applied while the relay runs (scripts/window-tree/relay_hook.py).
# SOCKDBG_BIN (default target/release/sockdbg, built if missing). Needs what
# scripts/window_shots.sh needs, and telnet. Uses two free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SOCKDBG_BIN:-target/release/sockdbg}
[ -x "$bin" ] || cargo build --release --quiet
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
relay=$(free_port); target=$(free_port)
cfg=$(mktemp -d)
fifo=$cfg/telnet-in
mkfifo "$fifo"
trap 'rm -rf "$cfg"' EXIT
cat > "$cfg/config.ron" <<RON
(version: 2,
 view: (language: Some(English), theme: Dark, window_size: Some((1280, 800)), tools_tab: Relay),
 sessions: [(spec: "relay:127.0.0.1:$relay,to=127.0.0.1:$target", running: true, framing: "delim:0a")])
RON
peers="python3 scripts/relay_target.py $target 90 &
  for i in \$(seq 100); do nc -z 127.0.0.1 $target && break; sleep 0.1; done;
  { printf 'hello\r\n'; exec 4<>'$fifo'; cat <&4; } | telnet 127.0.0.1 $relay >/dev/null 2>&1"
scripts/window-tree/tree.sh --timeout 30 --hook-timeout 180 --ready "127.0.0.1:$relay" \
  --hook-bg "$peers" --hook "/usr/bin/python3 scripts/window-tree/relay_hook.py $fifo 2>>${LOGDIR:-$cfg}/hook.err" \
  ${LOGDIR:+--logdir "$LOGDIR"} --until "down.slice=4" --screenshot assets/screenshots/window-relay.png \
  1280x800 "${LOGDIR:-$cfg}/tree.jsonl" -- "$bin" --config-dir "$cfg" >/dev/null
echo "assets/screenshots/window-relay.png"

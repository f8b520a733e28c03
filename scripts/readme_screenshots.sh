#!/usr/bin/env bash
# Regenerates the README screenshots from the real window under Xvfb:
#   assets/screenshots/window-text.png  GBK text from two clients, an entry's detail open
#   assets/screenshots/window-hex.png   the same log as hex in the light theme, after a send
#   assets/screenshots/window-zh.png    the Chinese UI
#   assets/screenshots/window-transports.png  WebSocket, TLS and multicast sessions
# The demo clients send GBK text, and the sessions decode GBK, as a user would set them.
# SOCKDBG_BIN=target/debug/sockdbg uses a debug build instead of building a release one.
# Needs: xvfb imagemagick xdotool python3 (Debian packages). Uses ports 6001, 7001, 6080,
# 6443 and 5000 (group 239.1.2.3 on 127.0.0.1; the machine needs a multicast route on lo or
# another interface, else that session shows why it could not join).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SOCKDBG_BIN:-target/release/sockdbg}
[ -n "${SKIP_BUILD:-}" ] || [ -n "${SOCKDBG_BIN:-}" ] || cargo build --release --quiet
out=assets/screenshots
mkdir -p "$out"
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT

shot() { # NAME CONFIG HOOK [SESSIONS...]
  local name=$1 config=$2 hook=$3
  shift 3
  [ $# -gt 0 ] || set -- tcp-server:6001 udp-server:127.0.0.1:7001
  rm -rf "$cfg"/*
  printf '%s\n' "$config" > "$cfg/config.ron"
  SOCKDBG_BIN=$bin SOCKDBG_CONFIG_DIR=$cfg SCREENSHOT_HOOK="$hook" \
    scripts/screenshot.sh "$out/$name" 3 -- "$@"
}

focus='xdotool search --name sockdbg windowfocus'
peers='python3 scripts/demo_peers.py 6001 6 /dev/null & sleep 2.5'
# The log's rows start at y=58, one every 19.5 points: the fifth is the GBK greeting.
gbk='new_session: (encoding: Gbk), window_size: Some((1280, 800))'
shot window-text.png "(version: 2, view: ($gbk, theme: Dark, language: Some(English)))" \
  "$peers; $focus; xdotool mousemove 760 135 click 1; xdotool mousemove 1 1; sleep 0.5"
shot window-hex.png "(version: 2, view: ($gbk, log_hex: true, theme: Light, language: Some(English)))" \
  "$peers; $focus; xdotool mousemove 500 723 click 1; xdotool type --delay 30 '1234567890'; xdotool key ctrl+Return; xdotool mousemove 1 1; sleep 0.5"
shot window-zh.png "(version: 2, view: ($gbk, theme: Dark, language: Some(Chinese)))" \
  "$peers; $focus; xdotool mousemove 760 135 click 1; xdotool mousemove 1 1; sleep 0.5"
ws_peers="$bin --headless ws://127.0.0.1:6080/chat --send '{\"op\":\"hello\",\"text\":\"你好\"}' --duration-ms 1500 >/dev/null 2>&1 &
  $bin --headless wss://127.0.0.1:6443/secure,insecure --send 'ping over TLS' --duration-ms 1500 >/dev/null 2>&1 &
  sleep 2"
shot window-transports.png '(version: 2, view: (window_size: Some((1280, 800)), theme: Light, language: Some(English)))' \
  "$ws_peers; $focus; xdotool mousemove 760 77 click 1; xdotool mousemove 1 1; sleep 0.5" \
  ws-server:127.0.0.1:6080/chat ws-server:127.0.0.1:6443/secure,tls 'udp-group:239.1.2.3:5000,iface=127.0.0.1'
echo "screenshots in $out"

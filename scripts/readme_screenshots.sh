#!/usr/bin/env bash
# Regenerates the README screenshots from the real window under Xvfb:
#   assets/screenshots/window-text.png  GBK text from two clients, an entry's detail open
#   assets/screenshots/window-hex.png   the same log as hex in the light theme, after a send
#   assets/screenshots/window-zh.png    the Chinese UI
# Needs: xvfb imagemagick xdotool python3 (Debian packages). Uses ports 6001 and 7001.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
out=assets/screenshots
mkdir -p "$out"
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT

shot() { # NAME CONFIG HOOK
  rm -rf "$cfg"/*
  printf '%s\n' "$2" > "$cfg/config.ron"
  SOCKDBG_BIN=target/release/sockdbg SOCKDBG_CONFIG_DIR=$cfg SCREENSHOT_HOOK="$3" \
    scripts/screenshot.sh "$out/$1" 3 -- tcp-server:6001 udp-server:127.0.0.1:7001
}

focus='xdotool search --name sockdbg windowfocus'
peers='python3 scripts/demo_peers.py 6001 6 /dev/null & sleep 2.5'
shot window-text.png '(version: 1, view: (log_encoding: Gbk, theme: Dark, language: Some(English)))' \
  "$peers; $focus; xdotool mousemove 700 281 click 1; sleep 0.5"
shot window-hex.png '(version: 1, view: (log_hex: true, log_encoding: Gbk, theme: Light, language: Some(English)))' \
  "$peers; $focus; xdotool mousemove 580 683 click 1; xdotool type --delay 30 '1234567890'; xdotool key ctrl+Return; sleep 0.5"
shot window-zh.png '(version: 1, view: (log_encoding: Gbk, theme: Dark, language: Some(Chinese)))' \
  "$peers; $focus; xdotool mousemove 700 281 click 1; sleep 0.5"
echo "screenshots in $out"

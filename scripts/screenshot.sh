#!/usr/bin/env bash
# Starts the real sockdbg window under Xvfb, optionally drives it, and saves a screenshot.
#
#   scripts/screenshot.sh OUT.png [SECONDS] [-- SOCKDBG ARGS...]
#
# Needs Debian packages: xvfb imagemagick (for `import`); mesa's software GL comes with them.
# Set SOCKDBG_BIN to use a prebuilt binary (default: target/release/sockdbg, else debug).
# Set SCREENSHOT_HOOK to a command run (with DISPLAY set) after the window is up, e.g. a
# script that connects peers and sends bytes, before the picture is taken.
set -euo pipefail
out=${1:?usage: scripts/screenshot.sh OUT.png [SECONDS] [-- ARGS...]}
shift
wait_s=${1:-3}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
bin=${SOCKDBG_BIN:-}
if [ -z "$bin" ]; then
  if [ -x target/release/sockdbg ]; then bin=target/release/sockdbg; else bin=target/debug/sockdbg; fi
fi
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
cfg=$(mktemp -d)
cleanup() { kill "${app_pid:-}" 2>/dev/null || true; kill "$xvfb_pid" 2>/dev/null || true; rm -rf "$cfg"; }
trap cleanup EXIT
export DISPLAY=$display
sleep 1
SOCKDBG_CONFIG_DIR=${SOCKDBG_CONFIG_DIR:-$cfg} "$bin" "$@" &
app_pid=$!
sleep "$wait_s"
if [ -n "${SCREENSHOT_HOOK:-}" ]; then
  bash -c "$SCREENSHOT_HOOK"
  sleep 1
fi
import -window root "$out"
echo "saved $out"

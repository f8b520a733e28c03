#!/usr/bin/env bash
# Idle memory and start time of the window (issue 19, item 3), against a bare eframe window
# with the same eframe features, allocator and size (examples/bare_window.rs), in one run:
# Xvfb at 1280x800, launch -> window mapped (xdotool search --sync), VmRSS after 10 s idle,
# and the CPU ticks spent in the last 5 s of it. RUNS (default 3) runs each, in turn.
#   scripts/idle_memory.sh            # builds both with PROFILE first (SKIP_BUILD=1 to skip)
# PROFILE (default dist, the shipped build: whole-program LTO) picks the cargo profile, and
# BIN_DIR (default target/PROFILE) where both binaries are.
# Needs Xvfb and xdotool (Debian: xvfb, xdotool).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
idle=${IDLE_S:-10}
profile=${PROFILE:-dist}
bin_dir=${BIN_DIR:-target/$profile}
[ -n "${SKIP_BUILD:-}" ] || cargo build --profile "$profile" --quiet --bin sockdbg --example bare_window
display=:$((200 + RANDOM % 500))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
export DISPLAY=$display
# measure NAME TITLE CMD...: prints "NAME: mapped in S s, VmRSS N MiB after idle s, CPU ticks T in the last 5 s"
measure() {
  local name=$1 title=$2
  shift 2
  local start pid mapped rss t0 t1
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 &
  pid=$!
  timeout 30 xdotool search --sync --onlyvisible --name "$title" >/dev/null
  mapped=$(echo "$(date +%s.%N) - $start" | bc)
  sleep $((idle - 5))
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 5
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  printf '%s: mapped in %.2f s, VmRSS %s MiB after %s s idle, %s CPU ticks in the last 5 s\n' \
    "$name" "$mapped" "$rss" "$idle" "$((t1 - t0))"
}
for run in $(seq "$runs"); do
  config=$(mktemp -d)
  measure bare "bare eframe window" "$bin_dir/examples/bare_window"
  measure sockdbg "sockdbg" "$bin_dir/sockdbg" --config-dir "$config"
  rm -rf "$config"
done

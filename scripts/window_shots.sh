#!/usr/bin/env bash
# Real-window screenshots and layout checks, at 800x600, 1280x800 and 1920x1080, in English and
# Chinese: the window with a framed TCP server and two live clients (GBK text, a GBK character
# split across reads, a length-prefixed message), a UDP server and a refused TCP client, quick
# commands and an auto-reply rule, an entry's detail open; then each tab of the settings column
# (beside the log, or its popup in a narrow window), the Scenarios tab with examples/modbus.sdbg
# opened through its file field (its one error, an unset ${port}, shown under the editor), the
# Load test tab after a 2.5 s run against an echo server of the hook's own (live figures,
# plots, summary); then the Settings menu open.
#
#   scripts/window_shots.sh [OUTDIR]        (default: target/window-shots)
#
# For each SIZE and LANG it writes OUTDIR/SIZE-LANG.png and .jsonl (the widget tree, read over
# AT-SPI by scripts/window-tree/tree.sh), SIZE-LANG-tab-N.png/.jsonl for the column's tabs and
# SIZE-LANG-settings.png/.jsonl, then runs scripts/window-tree/check_layout.py on every tree
# (outside the window, across a panel border, overlapping, text below body size, squeezed
# labels, cut labels) and prints its findings. Exit 1 if any check found a problem, so it can
# gate a change.
#
# SCENE=relay puts a TCP relay first instead (the demo clients talk through it to
# scripts/relay_target.py, with a fault set), so its Relay tab is shot and checked too.
# SCENE=serial puts a serial session first, on a socat pty pair whose far end
# scripts/serial_device.py plays (its control-line strip is in every shot), and also shoots
# the serial create form (SIZE-LANG-serial-form.png/.jsonl).
#
# Environment: SOCKDBG_BIN (default target/release/sockdbg, built if missing), SIZES, LANGS
# (default "en zh"), SCENE (default main, or relay), KEEP_GOING=1 to go on after a failed run.
# Needs Debian packages: xvfb xdotool imagemagick dbus at-spi2-core gir1.2-atspi-2.0 python3-gi.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/window-shots}
sizes=${SIZES:-800x600 1280x800 1920x1080}
langs=${LANGS:-en zh}
bin=${SOCKDBG_BIN:-target/release/sockdbg}
if [ ! -x "$bin" ]; then cargo build --release --quiet || exit 2; fi
mkdir -p "$out"
tree=scripts/window-tree
failed=0
base_port=${BASE_PORT:-6300}
run=0
for size in $sizes; do
  for lang in $langs; do
    run=$((run + 1))
    tcp=$((base_port + run * 10)); udp=$((tcp + 1))
    name=$size-$lang
    cfg=$(mktemp -d)
    case $lang in zh) language=Chinese; locale=zh_CN.UTF-8 ;; *) language=English; locale=C.UTF-8 ;; esac
    width=${size%x*}; height=${size#*x}
    first="(spec: \"tcp-server:127.0.0.1:$tcp\", running: true, framing: \"delim:0a\", name: \"\","
    peers="python3 scripts/demo_peers.py $tcp 60 /dev/null"
    if [ "${SCENE:-main}" = relay ]; then
      target=$((tcp + 2))
      first="(spec: \"relay:127.0.0.1:$tcp,to=127.0.0.1:$target,down.delay=20\", running: true, framing: \"delim:0a\", name: \"\","
      # The demo clients wait for the target: the relay closes a client whose target is
      # unreachable, and its 'hello' would never show.
      peers="sh -c 'python3 scripts/relay_target.py $target 70 & python3 scripts/demo_peers.py $tcp 60 /dev/null $target'"
    fi
    hook_extra=""
    ready=127.0.0.1:$tcp
    others="  (spec: \"udp-server:127.0.0.1:$udp\", running: true),
  (spec: \"tcp-client:127.0.0.1:1\", running: true),"
    if [ "${SCENE:-main}" = serial ]; then
      # A pty pair from socat: the serial session (the only one, so the list does not scroll
      # with the create form open) opens one end, scripts/serial_device.py plays the device
      # on the other; the window is ready when the session's title names the port. The
      # serial create form is shot too.
      ptys=$(mktemp)
      socat -d -d pty,raw,echo=0 pty,raw,echo=0 2>"$ptys" &
      socat_pid=$!
      for _ in $(seq 50); do [ "$(grep -c 'PTY is' "$ptys")" -ge 2 ] && break; sleep 0.1; done
      near=$(grep -o 'PTY is .*' "$ptys" | sed -n 1p | cut -d' ' -f3)
      far=$(grep -o 'PTY is .*' "$ptys" | sed -n 2p | cut -d' ' -f3)
      first="(spec: \"serial:$near,baud=9600\", running: true, framing: \"delim:0a\", name: \"\","
      others=""
      peers="python3 scripts/serial_device.py $far 70 /dev/null"
      ready=$near
      hook_extra=" --serial-form"
    fi
    cat > "$cfg/config.ron" <<RON
(version: 2,
 view: (language: Some($language), window_size: Some(($width, $height))),
 quick_commands: [(name: "Read all", payload: "READ ALL\\\\r\\\\n", options: (escapes: true))],
 sessions: [
  $first
   settings: (encoding: Gbk, line_ending: CrLf),
   quick_commands: [
    (name: "AT+GMR", payload: "AT+GMR\\\\r\\\\n", options: (escapes: true)),
    (name: "Modbus read holding registers", payload: "01 03 00 00 00 0A", options: (hex: true, checksum: Crc16Modbus)),
   ],
   auto_reply: [(name: "ping", enabled: true, match_kind: Contains, pattern: "ping", reply_kind: Send, reply: "pong\\\\r\\\\n", options: (escapes: true))]),
$others
 ])
RON
    rm -f "$out/$name.hook-done"
    LANG=$locale LC_ALL=$locale "$tree/tree.sh" --timeout 30 --hook-timeout 240 --ready "$ready" \
      --hook-bg "$peers" \
      --hook "/usr/bin/python3 $tree/shots_hook.py $out/$name hello$hook_extra" \
      --screenshot "$out/$name-settings.png" \
      "$size" "$out/$name-settings.jsonl" -- "$bin" --config-dir "$cfg" >/dev/null
    rc=$?
    rm -rf "$cfg"
    if [ -n "${socat_pid:-}" ]; then kill "$socat_pid" 2>/dev/null; wait "$socat_pid" 2>/dev/null; rm -f "$ptys"; socat_pid=""; fi
    if [ $rc != 0 ] || [ ! -s "$out/$name.jsonl" ]; then
      echo "== $name: the window run failed (tree.sh exit $rc)"; failed=1
      [ -n "${KEEP_GOING:-}" ] || exit 1
      continue
    fi
    # The detail state, each tab of the settings column, and the Settings menu open.
    trees=("$out/$name.jsonl" "$out/$name"-tab-*.jsonl "$out/$name-settings.jsonl")
    [ -z "$hook_extra" ] || trees+=("$out/$name-serial-form.jsonl")
    bad=0
    if [ ! -f "$out/$name.hook-done" ]; then
      echo "== $name: the hook stopped before every state was shot (its message is above)"; bad=1
    fi
    for t in "${trees[@]}"; do
      [ -s "$t" ] || { echo "== $name: missing $t"; bad=1; continue; }
      if ! problems=$(python3 "$tree/check_layout.py" "$t"); then
        echo "== $name: layout problems in $(basename "$t" .jsonl)"; echo "$problems" | sed 's/^/   /'; bad=1
      fi
    done
    if [ $bad = 0 ]; then
      echo "== $name: layout ok (${#trees[@]} states: $out/$name*.png)"
    else
      failed=1
    fi
  done
done
exit $failed

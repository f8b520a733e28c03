#!/usr/bin/env bash
# The real sockdbg.exe window under Wine 8 and Xvfb, in the Chinese UI of a Chinese Windows
# (LANG=zh_CN.UTF-8 gives Wine the ANSI code page 936, so new sessions decode GBK): a TCP
# server that an outside client sends Chinese text in GBK, and a TCP client connected to an
# outside server that greets it in GBK. Saves a screenshot of the screen.
#
#   scripts/wine/screenshot.sh [OUT.png]        (default assets/screenshots/windows-wine.png)
#
# Needs: a built exe (cargo build --target x86_64-pc-windows-gnu; SOCKDBG_EXE to choose
# another), wine, xvfb, imagemagick (import), xdotool, python3, the zh_CN.UTF-8 locale (made with
# localedef when missing). The exe is copied to a test
# directory of its own with the test-only bcryptprimitives.dll (see runner.sh), never beside
# a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-assets/screenshots/windows-wine.png}
exe=${SOCKDBG_EXE:-target/x86_64-pc-windows-gnu/debug/sockdbg.exe}
[ -f "$exe" ] || { echo "no $exe: cargo build --target x86_64-pc-windows-gnu" >&2; exit 2; }
# Wine takes its code page from the locale, which must exist (Debian: package locales).
if ! locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
  echo "== making the zh_CN.UTF-8 locale (localedef)"
  localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
fi
work=$(mktemp -d)
mkdir -p "$work/debug"
cp "$exe" "$work/debug/sockdbg.exe"
port=$((20000 + RANDOM % 20000))
peer_port=$((port + 1))
display=:$((190 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
cleanup() {
  kill "${client_pid:-}" "${listener_pid:-}" "${app_pid:-}" 2>/dev/null || true
  WINEPREFIX="$prefix" wineserver -k 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
prefix=${WINEPREFIX:-$PWD/target/wine-prefix}
trap cleanup EXIT
export DISPLAY=$display LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 WINEPREFIX=$prefix
# The outside peers are small Python programs that send their GBK bytes and hold the
# connection until cleanup ends them. The outside server the client connects to greets in
# GBK (欢迎，设备 01).
peer() { # ROLE PORT TEXT: ROLE is listen or connect; TEXT is sent in GBK
  exec python3 -c '
import socket, sys, time
role, port, data = sys.argv[1], int(sys.argv[2]), (sys.argv[3] + "\r\n").encode("gbk")
if role == "listen":
    conn, _ = socket.create_server(("127.0.0.1", port)).accept()
else:
    conn = socket.create_connection(("127.0.0.1", port))
conn.sendall(data)
time.sleep(600)
' "$@" >/dev/null 2>&1
}
peer listen "$peer_port" '欢迎，设备 01' &
listener_pid=$!
sleep 1
# A fresh settings folder, given as a Windows path: first start, language from the locale,
# sessions from the command line.
scripts/wine/runner.sh "$work/debug/sockdbg.exe" --config-dir 'Z:'"${work//\//\\}"'\config' \
  "tcp-server:127.0.0.1:$port" "tcp-client:127.0.0.1:$peer_port" >/dev/null 2>&1 &
app_pid=$!
for _ in $(seq 120); do
  xdotool search --name sockdbg >/dev/null 2>&1 && break
  sleep 1
done
sleep 5
# An outside client: GBK 你好，中文 (the server decodes GBK by default on code page 936).
peer connect "$port" '你好，中文 from a client' &
client_pid=$!
sleep 3
import -window root "$out"
echo "saved $out"

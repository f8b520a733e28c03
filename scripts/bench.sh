#!/usr/bin/env bash
# Runs every performance target against its anchor in one go, on loopback only.
#
#   scripts/bench.sh            # all: tcp ingest vs socat, udp flood, 10k clients, store, frame
#   scripts/bench.sh tcp        # only the TCP ingest race
#   scripts/bench.sh tls        # TLS ingest: sockdbg tls-server against socat OPENSSL-LISTEN
#   scripts/bench.sh relay      # 1 GiB through relay: against socat's relay, and ping-pong latency
#
# Needs socat (Debian package `socat`); `tls` also openssl (to make the anchor's certificate). Results are printed; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
size=${SIZE_BYTES:-1073741824}   # 1 GiB
runs=${RUNS:-3}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# race NAME ANCHOR_LISTEN SENDER_CONNECT SPEC: the same sender (socat reading /dev/zero in
# 256 KiB blocks, connecting with SENDER_CONNECT) feeds first socat listening with
# ANCHOR_LISTEN, then `sockdbg --headless SPEC`; PORT in the three is replaced by a free port.
race() {
  local name=$1 anchor_listen=$2 sender_connect=$3 spec=$4 bin=target/release/sockdbg
  command -v socat >/dev/null || { echo "socat is needed: apt-get install socat"; exit 1; }
  [ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
  local stats
  stats=$(mktemp)
  send() { socat -u -b 262144 "OPEN:/dev/zero,readbytes=$size" "${sender_connect//PORT/$1}" 2>/dev/null || true; }
  for run in $(seq "$runs"); do
    port=$(free_port)
    start=$(date +%s.%N)
    socat -u -b 262144 "${anchor_listen//PORT/$port}" OPEN:/dev/null &
    anchor=$!
    sleep 0.3
    send "$port"
    wait "$anchor" || true
    socat_s=$(echo "$(date +%s.%N) - $start - 0.3" | bc)

    port=$(free_port)
    start=$(date +%s.%N)
    "$bin" --headless "${spec//PORT/$port}" --once --quiet --stats 2>"$stats" &
    receiver=$!
    sleep 0.3
    send "$port"
    wait "$receiver" || true
    sockdbg_s=$(echo "$(date +%s.%N) - $start - 0.3" | bc)
    rx=$(sed -n 's/.*rx_bytes=\([0-9]*\).*/\1/p' "$stats")
    printf '%s ingest run %s: %s bytes; socat %.2f s (%.2f GB/s); sockdbg %.2f s (%.2f GB/s); ratio %.2fx; rx_bytes %s %s\n' \
      "$name" "$run" "$size" "$socat_s" "$(echo "$size/$socat_s/1000000000" | bc -l)" \
      "$sockdbg_s" "$(echo "$size/$sockdbg_s/1000000000" | bc -l)" \
      "$(echo "$socat_s/$sockdbg_s" | bc -l)" "$rx" "$([ "$rx" = "$size" ] && echo '(exact)' || echo "(MISMATCH: $(cat "$stats"))")"
  done
  rm -f "$stats"
}

tcp_race() {
  race tcp "TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:PORT" "tcp-server:127.0.0.1:PORT"
}

tls_race() {
  command -v openssl >/dev/null || { echo "openssl is needed to make the certificate"; exit 1; }
  local dir
  dir=$(mktemp -d)
  # One certificate for both receivers, so both do the same handshake and cipher (TLS 1.3).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  race tls "OPENSSL-LISTEN:PORT,bind=127.0.0.1,reuseaddr,cert=$dir/cert.pem,key=$dir/key.pem,verify=0" \
    "OPENSSL:127.0.0.1:PORT,verify=0" "tls-server:127.0.0.1:PORT,cert=$dir/cert.pem,key=$dir/key.pem"
  rm -rf "$dir"
}

# relay_race: the same sender (socat reading /dev/zero) sends SIZE bytes through a relay to
# the same sink (socat into `wc -c`, so the bytes that arrived are counted): first socat's
# relay (TCP-LISTEN:P TCP:127.0.0.1:Q), then `sockdbg --headless relay:127.0.0.1:P,to=...`,
# which logs every chunk as the window would. Timed from the send to the sink's end.
relay_race() {
  local bin=target/release/sockdbg stats count
  command -v socat >/dev/null || { echo "socat is needed: apt-get install socat"; exit 1; }
  [ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
  stats=$(mktemp); count=$(mktemp)
  through() { # through NAME: one transfer through the relay on $port to the sink on $sink_port
    socat -u -b 262144 "TCP-LISTEN:$sink_port,bind=127.0.0.1,reuseaddr" STDOUT | wc -c >"$count" &
    local sink=$!
    sleep 0.2
    "$@" &
    local relay=$!
    sleep 0.3
    local start
    start=$(date +%s.%N)
    socat -u -b 262144 "OPEN:/dev/zero,readbytes=$size" "TCP:127.0.0.1:$port" 2>/dev/null || true
    wait "$sink" || true
    echo "$(date +%s.%N) - $start" | bc
    wait "$relay" 2>/dev/null || true
  }
  for run in $(seq "$runs"); do
    port=$(free_port); sink_port=$(free_port)
    socat_s=$(through socat -b 262144 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "TCP:127.0.0.1:$sink_port")
    socat_n=$(cat "$count")
    port=$(free_port); sink_port=$(free_port)
    sockdbg_s=$(through "$bin" --headless "relay:127.0.0.1:$port,to=127.0.0.1:$sink_port" --once --quiet --stats 2>"$stats")
    sockdbg_n=$(cat "$count")
    printf 'relay run %s: %s bytes; socat %.2f s (%.2f GB/s, %s at the sink); sockdbg %.2f s (%.2f GB/s, %s at the sink); ratio %.2fx %s\n' \
      "$run" "$size" "$socat_s" "$(echo "$size/$socat_s/1000000000" | bc -l)" "$socat_n" \
      "$sockdbg_s" "$(echo "$size/$sockdbg_s/1000000000" | bc -l)" "$sockdbg_n" \
      "$(echo "$socat_s/$sockdbg_s" | bc -l)" "$([ "$sockdbg_n" = "$size" ] && echo '(exact)' || echo "(MISMATCH: $(cat "$stats"))")"
  done
  rm -f "$stats" "$count"
}

# relay_latency: 64-byte ping-pongs (scripts/relay_latency.py) directly to an echo server,
# through socat's relay and through sockdbg's, twice each in turn (a second connection to
# the same relay, so the order does not favour one); p50/p99 and what each relay adds.
relay_latency() {
  local bin=target/release/sockdbg echo_port socat_port sockdbg_port
  echo_port=$(free_port); socat_port=$(free_port); sockdbg_port=$(free_port)
  socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,reuseaddr,fork,nodelay" "TCP:127.0.0.1:$echo_port,nodelay" &
  local anchor=$!
  "$bin" --headless "relay:127.0.0.1:$sockdbg_port,to=127.0.0.1:$echo_port" --quiet &
  local relay=$!
  sleep 0.5
  python3 scripts/relay_latency.py "$echo_port" "${COUNT:-10000}" "socat=$socat_port" "sockdbg=$sockdbg_port" \
    "socat-again=$socat_port" "sockdbg-again=$sockdbg_port"
  kill "$anchor" "$relay" 2>/dev/null || true
  wait "$anchor" "$relay" 2>/dev/null || true
}

case "$what" in
  tcp) tcp_race ;;
  relay) relay_race; relay_latency ;;
  tls) tls_race ;;
  udp|clients) cargo bench --bench net_load -- "$what" ;;
  store) cargo bench --bench log_store ;;
  frame) cargo bench --bench frame_cost ;;
  all)
    tcp_race
    cargo bench --bench net_load
    cargo bench --bench log_store
    cargo bench --bench frame_cost
    ;;
  *) echo "usage: scripts/bench.sh [all|tcp|tls|udp|clients|store|frame]"; exit 2 ;;
esac

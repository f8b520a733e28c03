#!/usr/bin/env bash
# Runs every performance target against its anchor in one go, on loopback only.
#
#   scripts/bench.sh            # all: tcp ingest vs socat, udp flood, 10k clients, store, frame
#   scripts/bench.sh tcp        # only the TCP ingest race
#
# Needs socat (Debian package `socat`). Results are printed; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
size=${SIZE_BYTES:-1073741824}   # 1 GiB
runs=${RUNS:-3}

tcp_race() {
  command -v socat >/dev/null || { echo "socat is needed: apt-get install socat"; exit 1; }
  [ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
  local bin=target/release/sockdbg
  # Same sender for both receivers: socat reading /dev/zero in 256 KiB blocks.
  send() { socat -u -b 262144 "OPEN:/dev/zero,readbytes=$size" "TCP:127.0.0.1:$1" 2>/dev/null || true; }
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  for run in $(seq "$runs"); do
    port=$(free_port)
    start=$(date +%s.%N)
    socat -u -b 262144 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" OPEN:/dev/null &
    anchor=$!
    sleep 0.3
    send "$port"
    wait "$anchor"
    socat_s=$(echo "$(date +%s.%N) - $start - 0.3" | bc)

    port=$(free_port)
    start=$(date +%s.%N)
    "$bin" --headless "tcp-server:127.0.0.1:$port" --once --quiet --stats 2>/tmp/sockdbg-bench-stats.txt &
    receiver=$!
    sleep 0.3
    send "$port"
    wait "$receiver"
    sockdbg_s=$(echo "$(date +%s.%N) - $start - 0.3" | bc)
    stats=$(cat /tmp/sockdbg-bench-stats.txt)
    rx=$(sed -n 's/.*rx_bytes=\([0-9]*\).*/\1/p' /tmp/sockdbg-bench-stats.txt)
    printf 'tcp ingest run %s: %s bytes; socat %.2f s (%.2f GB/s); sockdbg %.2f s (%.2f GB/s); ratio %.2fx; rx_bytes %s %s\n' \
      "$run" "$size" "$socat_s" "$(echo "$size/$socat_s/1000000000" | bc -l)" \
      "$sockdbg_s" "$(echo "$size/$sockdbg_s/1000000000" | bc -l)" \
      "$(echo "$socat_s/$sockdbg_s" | bc -l)" "$rx" "$([ "$rx" = "$size" ] && echo '(exact)' || echo "(MISMATCH: $stats)")"
  done
}

case "$what" in
  tcp) tcp_race ;;
  udp|clients) cargo bench --bench net_load -- "$what" ;;
  store) cargo bench --bench log_store ;;
  frame) cargo bench --bench frame_cost ;;
  all)
    tcp_race
    cargo bench --bench net_load
    cargo bench --bench log_store
    cargo bench --bench frame_cost
    ;;
  *) echo "usage: scripts/bench.sh [all|tcp|udp|clients|store|frame]"; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs every performance target against its anchor in one go, on loopback only.
#
#   scripts/bench.sh            # all: tcp ingest vs socat, udp flood, 10k clients, store, frame
#   scripts/bench.sh tcp        # only the TCP ingest race
#   scripts/bench.sh tls        # TLS ingest: sockdbg tls-server against socat OPENSSL-LISTEN
#   scripts/bench.sh relay      # 1 GiB through relay: against socat's relay, and ping-pong latency
#   scripts/bench.sh udp        # UDP overload: a C recvmmsg receiver against sockdbg headless,
#                               # then the window's path (benches/net_load.rs udp), same flood
#
# Needs socat (Debian package `socat`); `tls` also openssl (to make the anchor's certificate);
# `udp` a C compiler (cc/gcc) for benches/c/. Results are printed; BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
size=${SIZE_BYTES:-1073741824}   # 1 GiB
runs=${RUNS:-3}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# listening PORT: waits (up to 10 s) until a TCP socket listens on 127.0.0.1:PORT.
listening() {
  for _ in $(seq 1000); do
    ss -ltnH "sport = :$1" | grep -q . && return 0
    sleep 0.01
  done
  echo "nothing listens on port $1 after 10 s" >&2
  return 1
}

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
    # Each receiver is timed from the moment it listens (a sender that came earlier would be
    # refused, and a receiver started with --once would wait for it forever).
    port=$(free_port)
    socat -u -b 262144 "${anchor_listen//PORT/$port}" OPEN:/dev/null &
    anchor=$!
    listening "$port"
    start=$(date +%s.%N)
    send "$port"
    wait "$anchor" || true
    socat_s=$(echo "$(date +%s.%N) - $start" | bc)

    port=$(free_port)
    "$bin" --headless "${spec//PORT/$port}" --once --quiet --stats 2>"$stats" &
    receiver=$!
    listening "$port"
    start=$(date +%s.%N)
    send "$port"
    wait "$receiver" || true
    sockdbg_s=$(echo "$(date +%s.%N) - $start" | bc)
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

# udp_race: two C senders (benches/c/udp_flood_send.c), each COUNT datagrams of SIZE bytes at
# RATE per second (defaults: 300,000 x 64 B at 300k/s, about 600k pkt/s together for a
# second), into one port. Receivers in turn, RUNS times (default 5): the anchor, a C program
# with recvmmsg (benches/c/udp_recvmmsg.c: batches of 64, 4 MiB SO_RCVBUF), then
# `sockdbg --headless udp-server:... --quiet --stats`, stopped with SIGINT once the kernel's
# queue of its socket is empty. sockdbg's count is checked against the kernel's: every
# datagram sent and not dropped by the kernel (the `drops` column of /proc/net/udp) must be in
# rx_packets, and rx_bytes must be rx_packets x SIZE. SOCKDBG_BIN=PATH races another build.
udp_c_build() {
  local out=target/bench-c
  mkdir -p "$out"
  for prog in udp_flood_send udp_recvmmsg; do
    if [ ! -x "$out/$prog" ] || [ "benches/c/$prog.c" -nt "$out/$prog" ]; then
      ${CC:-cc} -O2 -Wall -Wextra -o "$out/$prog" "benches/c/$prog.c"
    fi
  done
}

# udp_socket_state PORT: "RX_QUEUE_BYTES DROPS" of the UDP socket bound to 127.0.0.1:PORT.
udp_socket_state() {
  local want sl local rem st queues rest
  want=$(printf '0100007F:%04X' "$1")
  while read -r sl local rem st queues rest; do
    if [ "$local" = "$want" ]; then
      echo "$((16#${queues#*:})) ${rest##* }"
      return
    fi
  done < <(tail -n +2 /proc/net/udp)
  echo "0 0"
}

udp_race() {
  local bin=${SOCKDBG_BIN:-target/release/sockdbg} count=${COUNT:-300000} rate=${RATE:-300000} size=${SIZE:-64}
  local runs=${RUNS:-5} stats anchor_out send_a send_b
  udp_c_build
  [ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet
  stats=$(mktemp); anchor_out=$(mktemp); send_a=$(mktemp); send_b=$(mktemp)
  local expected=$((2 * count))
  flood() { # flood PORT: both senders at once; prints what they sent together
    target/bench-c/udp_flood_send 127.0.0.1 "$1" "$count" "$rate" "$size" >"$send_a" &
    local a=$!
    target/bench-c/udp_flood_send 127.0.0.1 "$1" "$count" "$rate" "$size" >"$send_b" &
    wait "$a" $!
    cat "$send_a" "$send_b" | sed -n 's/^sent=\([0-9]*\).*/\1/p' | paste -sd+ | bc
  }
  wait_bound() { # wait_bound PORT: until a UDP socket is bound to it (at most 10 s)
    for _ in $(seq 200); do
      ss -Hun state all "sport = :$1" | grep -q . && return 0
      sleep 0.05
    done
    echo "nothing bound to UDP port $1"; return 1
  }
  echo "udp overload: 2 senders x $count datagrams of $size B at $rate/s each; $runs runs"
  local ratios=() anchors=() sockdbgs=()
  for run in $(seq "$runs"); do
    port=$(free_port)
    target/bench-c/udp_recvmmsg "$port" "$expected" 1000 >"$anchor_out" 2>/dev/null &
    local anchor=$!
    wait_bound "$port"
    anchor_sent=$(flood "$port")
    wait "$anchor" || true
    anchor_rx=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' "$anchor_out")
    anchor_bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$anchor_out")

    port=$(free_port)
    "$bin" --headless "udp-server:127.0.0.1:$port" --quiet --stats 2>"$stats" &
    local receiver=$!
    wait_bound "$port"
    # The receive buffer the kernel granted (as SO_RCVBUF reads it: twice what was asked).
    sockdbg_rcvbuf=$(ss -Hunm state all "sport = :$port" | sed -n 's/.*rb\([0-9]*\).*/\1/p' | head -1)
    sent=$(flood "$port")
    # Until the kernel's queue of the socket is empty (at most 10 s), then stop it.
    local state
    for _ in $(seq 200); do
      state=$(udp_socket_state "$port")
      [ "${state%% *}" = 0 ] && break
      sleep 0.05
    done
    sleep 0.2
    state=$(udp_socket_state "$port")
    kill -INT "$receiver"
    wait "$receiver" || true
    local drops=${state##* }
    rx=$(sed -n 's/.*rx_packets=\([0-9]*\).*/\1/p' "$stats")
    rx_bytes=$(sed -n 's/.*rx_bytes=\([0-9]*\).*/\1/p' "$stats")
    local exact="(exact: $((sent - drops)) sent and not dropped by the kernel, all counted)"
    if [ "$rx" != "$((sent - drops))" ] || [ "$rx_bytes" != "$((rx * size))" ]; then
      exact="(MISMATCH: sent $sent, kernel drops $drops; $(cat "$stats"))"
    fi
    ratio=$(echo "scale=4; $rx / $anchor_rx" | bc)
    ratios+=("$ratio"); anchors+=("$anchor_rx"); sockdbgs+=("$rx")
    printf 'udp run %s: anchor recvmmsg %s/%s (%s B, rcvbuf %s); sockdbg %s/%s (%s B, rcvbuf %s, kernel dropped %s); ratio %.3fx %s\n' \
      "$run" "$anchor_rx" "$anchor_sent" "$anchor_bytes" "$(sed -n 's/.*rcvbuf=\([0-9]*\).*/\1/p' "$anchor_out")" \
      "$rx" "$sent" "$rx_bytes" "$sockdbg_rcvbuf" "$drops" "$ratio" "$exact"
  done
  summary() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {printf "min %s median %s max %s", v[1], v[int((NR+1)/2)], v[NR]}'; }
  echo "udp anchor received:  $(summary "${anchors[@]}")"
  echo "udp sockdbg received: $(summary "${sockdbgs[@]}")"
  echo "udp ratio:            $(summary "${ratios[@]}")"
  rm -f "$stats" "$anchor_out" "$send_a" "$send_b"
}

case "$what" in
  tcp) tcp_race ;;
  relay) relay_race; relay_latency ;;
  tls) tls_race ;;
  udp)
    udp_race
    UDP_SENDER=target/bench-c/udp_flood_send UDP_ANCHOR=target/bench-c/udp_recvmmsg \
      cargo bench --bench net_load -- udp
    ;;
  clients) cargo bench --bench net_load -- clients ;;
  store) cargo bench --bench log_store ;;
  frame) cargo bench --bench frame_cost ;;
  all)
    tcp_race
    udp_race
    UDP_SENDER=target/bench-c/udp_flood_send UDP_ANCHOR=target/bench-c/udp_recvmmsg \
      cargo bench --bench net_load
    cargo bench --bench log_store
    cargo bench --bench frame_cost
    ;;
  *) echo "usage: scripts/bench.sh [all|tcp|tls|udp|clients|store|frame]"; exit 2 ;;
esac

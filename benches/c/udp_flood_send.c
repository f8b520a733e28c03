/* udp_flood_send: the UDP overload benchmark's sender (scripts/bench.sh udp, benches/net_load.rs).
 *
 *   udp_flood_send HOST PORT COUNT RATE SIZE
 *
 * Sends COUNT datagrams of SIZE bytes to HOST:PORT (IPv4), paced at RATE per second: every
 * wake-up sends what is due by then (sendmmsg, at most 64 at a time), then sleeps 50 us.
 * Each payload starts with its sequence number (8 bytes, little endian) and is otherwise
 * 0xA5. Prints "sent=N seconds=S" to stdout. Loopback benchmarks only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT COUNT RATE SIZE\n", argv[0]);
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    fprintf(stderr, "bad IPv4 address: %s\n", argv[1]);
    return 2;
  }
  long long count = atoll(argv[3]);
  double rate = atof(argv[4]);
  size_t size = (size_t)atol(argv[5]);
  if (count <= 0 || rate <= 0 || size > 65507) {
    fprintf(stderr, "COUNT and RATE must be positive, SIZE at most 65507\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("socket/connect");
    return 1;
  }
  static unsigned char payload[BATCH][65536];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    memset(payload[i], 0xA5, size);
    iov[i].iov_base = payload[i];
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long long sent = 0;
  double start = now_s();
  struct timespec nap = {0, 50000};
  while (sent < count) {
    long long due = (long long)((now_s() - start) * rate);
    if (due > count) due = count;
    while (sent < due) {
      int n = (int)(due - sent < BATCH ? due - sent : BATCH);
      for (int i = 0; i < n; i++) {
        uint64_t seq = (uint64_t)(sent + i);
        if (size >= sizeof seq) memcpy(payload[i], &seq, sizeof seq);
      }
      int done = sendmmsg(fd, msgs, (unsigned)n, 0);
      if (done < 0) continue; /* ENOBUFS and the like: try again */
      sent += done;
    }
    nanosleep(&nap, NULL);
  }
  printf("sent=%lld seconds=%.3f\n", sent, now_s() - start);
  return 0;
}

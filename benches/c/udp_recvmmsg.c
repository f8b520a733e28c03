/* udp_recvmmsg: the UDP overload benchmark's anchor receiver (scripts/bench.sh udp,
 * benches/net_load.rs): what a plain C program takes from the same flood.
 *
 *   udp_recvmmsg PORT EXPECTED IDLE_MS
 *
 * Binds 127.0.0.1:PORT with a 4 MiB SO_RCVBUF and receives with recvmmsg in batches of 64
 * (each buffer takes the largest datagram, 65,535 bytes, so nothing is ever truncated),
 * counting datagrams and bytes, until EXPECTED datagrams have arrived or none came for
 * IDLE_MS after the first. Prints "ready" once bound (to stderr) and "received=N bytes=B
 * rcvbuf=R" at the end (to stdout). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define BUF_BYTES 65536

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT EXPECTED IDLE_MS\n", argv[0]);
    return 2;
  }
  long long expected = atoll(argv[2]);
  int idle_ms = atoi(argv[3]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcvbuf = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("socket/bind");
    return 1;
  }
  socklen_t len = sizeof rcvbuf;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
  fprintf(stderr, "ready\n");
  static unsigned char bufs[BATCH][BUF_BYTES];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  struct sockaddr_in from[BATCH];
  long long received = 0, bytes = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (received < expected) {
    /* Before the first datagram, wait as long as it takes. */
    int ready = poll(&p, 1, received == 0 ? -1 : idle_ms);
    if (ready <= 0) break;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = BUF_BYTES;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
      received++;
      bytes += msgs[i].msg_len;
    }
  }
  printf("received=%lld bytes=%lld rcvbuf=%d\n", received, bytes, rcvbuf);
  return 0;
}

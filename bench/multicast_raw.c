// The raw kernel rate of multicast datagrams on this machine: the anchor bench/multicast.sh
// compares the adapter with. One sender thread sends COUNT datagrams of SIZE bytes to the
// group with sendmmsg, 64 per call, as fast as the kernel takes them; RECEIVERS sockets bound
// to the group's port (as many as gateways in the adapter's run) each take them with
// recvmmsg on a thread of their own, with the gateway's default 8 MiB receive buffer. Prints
// one JSON line: what the first receiver got, and its rate in datagrams and bytes per second
// from its first datagram to its last. A receiver stops after COUNT datagrams or one second
// without any (the kernel drops what overflows a receive buffer; that is part of the rate).
//
//   multicast_raw GROUP PORT SIZE COUNT RECEIVERS
//
// Run it inside the bench's network namespace (lo up, 224.0.0.0/4 routed to lo).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBatch = 64, kMaxReceivers = 8, kReceiveBatch = 32, kBufferSize = 65536 };

struct receiver {
  int fd;
  long expected;
  long received;
  long long bytes;
  double first, last;
};

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int joined_socket(const char* group, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int one = 1, rcvbuf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  struct sockaddr_in bound = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, group, &bound.sin_addr);
  if (bind(fd, (struct sockaddr*)&bound, sizeof bound) != 0) die("bind");
  struct ip_mreq join = {0};
  inet_pton(AF_INET, group, &join.imr_multiaddr);
  inet_pton(AF_INET, "127.0.0.1", &join.imr_interface);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0) die("join");
  return fd;
}

static void* receive(void* arg) {
  struct receiver* r = arg;
  char* storage = malloc((size_t)kReceiveBatch * kBufferSize);
  struct iovec iov[kReceiveBatch];
  struct mmsghdr headers[kReceiveBatch];
  for (int i = 0; i < kReceiveBatch; ++i) {
    iov[i].iov_base = storage + (size_t)i * kBufferSize;
    iov[i].iov_len = kBufferSize;
  }
  while (r->received < r->expected) {
    struct pollfd p = {r->fd, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) break;  // a second of silence: the sender is done
    memset(headers, 0, sizeof headers);
    for (int i = 0; i < kReceiveBatch; ++i) {
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(r->fd, headers, kReceiveBatch, MSG_DONTWAIT, NULL);
    if (n <= 0) continue;
    const double t = now_seconds();
    if (r->received == 0) r->first = t;
    r->last = t;
    r->received += n;
    for (int i = 0; i < n; ++i) r->bytes += headers[i].msg_len;
  }
  free(storage);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s GROUP PORT SIZE COUNT RECEIVERS\n", argv[0]);
    return 2;
  }
  const char* group = argv[1];
  const int port = atoi(argv[2]);
  const size_t size = (size_t)atol(argv[3]);
  const long count = atol(argv[4]);
  const int receivers = atoi(argv[5]);
  if (size == 0 || size > 65507 || count <= 0 || receivers < 1 || receivers > kMaxReceivers) {
    fprintf(stderr, "multicast_raw: SIZE 1..65507, COUNT > 0, RECEIVERS 1..%d\n", kMaxReceivers);
    return 2;
  }

  struct receiver r[kMaxReceivers];
  pthread_t threads[kMaxReceivers];
  for (int i = 0; i < receivers; ++i) {
    r[i] = (struct receiver){.fd = joined_socket(group, port), .expected = count};
    pthread_create(&threads[i], NULL, receive, &r[i]);
  }

  const int out = socket(AF_INET, SOCK_DGRAM, 0);
  struct in_addr lo;
  inet_pton(AF_INET, "127.0.0.1", &lo);
  setsockopt(out, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
  int sndbuf = 4 << 20;
  setsockopt(out, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, group, &to.sin_addr);
  char* payload = calloc(1, size);
  struct iovec iov = {payload, size};
  struct mmsghdr batch[kBatch];
  memset(batch, 0, sizeof batch);
  for (int i = 0; i < kBatch; ++i) {
    batch[i].msg_hdr.msg_name = &to;
    batch[i].msg_hdr.msg_namelen = sizeof to;
    batch[i].msg_hdr.msg_iov = &iov;
    batch[i].msg_hdr.msg_iovlen = 1;
  }
  long sent = 0;
  while (sent < count) {
    const long want = count - sent < kBatch ? count - sent : kBatch;
    const int n = sendmmsg(out, batch, (unsigned)want, 0);
    if (n < 0) die("sendmmsg");
    sent += n;
  }
  for (int i = 0; i < receivers; ++i) pthread_join(threads[i], NULL);

  const double seconds = r[0].last > r[0].first ? r[0].last - r[0].first : 1e-9;
  printf("{\"size\":%zu,\"sent\":%ld,\"received\":%ld,\"seconds\":%.4f,"
         "\"datagrams_per_sec\":%.0f,\"bytes_per_sec\":%.0f}\n",
         size, sent, r[0].received, seconds, (double)r[0].received / seconds,
         (double)r[0].bytes / seconds);
  free(payload);
  return 0;
}

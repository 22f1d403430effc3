/* What nats.c alone spends to receive a message: the floor under the gateway's NATS -> Psycho
 * path. Subscribes to SUBJECT on a nats-server, prints "ready" once the subscription is in
 * place, counts COUNT messages (freeing each, as the gateway does once it has copied one), and
 * prints one JSON line: the process's CPU time per message from the first message to the
 * last. Two ways of receiving:
 *   async  nats.c's own reader thread hands each message to a delivery thread from its pool,
 *          which calls back (the way the gateway subscribes: natsOptions_UseGlobalMessageDelivery);
 *   loop   no nats.c reader thread: an external event loop (poll on the socket, as
 *          natsOptions_SetEventLoop allows) reads and parses, and a synchronous subscription is
 *          emptied with natsSubscription_NextMsg(0) on the same thread, with no hand-off at all.
 * Used by bench/nats.sh. Gives up after 60 s without a message.
 *
 *   cc -O2 -pthread bench/natsc_receive.c -lnats -o natsc_receive
 *   ./natsc_receive nats://127.0.0.1:4222 SUBJECT COUNT async|loop
 */
#include <nats/nats.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long wanted;
static atomic_long received;
static atomic_long last_arrival_s;
static double cpu_at_first, wall_at_first;
static volatile unsigned long sink; /* keeps the reads of each message */

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(natsMsg* msg, const char* mode) {
  sink += (unsigned long)natsMsg_GetDataLength(msg) + (unsigned char)natsMsg_GetSubject(msg)[0];
  natsMsg_Destroy(msg);
  const long n = atomic_fetch_add(&received, 1) + 1;
  if (n == 1) {
    cpu_at_first = cpu_seconds();
    wall_at_first = wall_seconds();
  }
  atomic_store(&last_arrival_s, (long)wall_seconds());
  if (n < wanted) return;
  const double cpu = cpu_seconds() - cpu_at_first, wall = wall_seconds() - wall_at_first;
  printf("{\"mode\":\"%s\",\"msgs\":%ld,\"cpu_ns_per_msg\":%.0f,\"seconds\":%.3f}\n", mode, n,
         cpu * 1e9 / (double)n, wall);
  fflush(stdout);
  _exit(0);
}

static void on_message(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure) {
  (void)nc, (void)sub, (void)closure;
  count(msg, "async");
}

/* The external loop: nats.c says through these callbacks which events it wants; they may be
 * called from its other threads (a reconnect, a flush), so they only set flags and wake the
 * loop through an eventfd. */
static struct {
  int socket, wake;
  atomic_bool read, write;
} loop = {.socket = -1, .wake = -1};

static void wake_loop(void) {
  const uint64_t one = 1;
  if (write(loop.wake, &one, sizeof one) < 0) perror("eventfd");
}
static natsStatus loop_attach(void** user, void* l, natsConnection* nc, natsSock socket) {
  (void)l, (void)nc;
  loop.socket = socket;
  atomic_store(&loop.read, true);
  *user = &loop;
  wake_loop();
  return NATS_OK;
}
static natsStatus loop_read(void* user, bool add) {
  (void)user;
  atomic_store(&loop.read, add);
  wake_loop();
  return NATS_OK;
}
static natsStatus loop_write(void* user, bool add) {
  (void)user;
  atomic_store(&loop.write, add);
  wake_loop();
  return NATS_OK;
}
static natsStatus loop_detach(void* user) {
  (void)user;
  return NATS_OK;
}

/* Flushing waits for the server's PONG, which the loop itself must read: done beside it. */
static atomic_bool subscribed;
static void* flush_subscription(void* nc) {
  if (natsConnection_FlushTimeout(nc, 10000) == NATS_OK) atomic_store(&subscribed, true);
  return NULL;
}

static int fail(const char* what, natsStatus s) {
  fprintf(stderr, "natsc_receive: %s: %s\n", what, natsStatus_GetText(s));
  return 1;
}

static int idle_too_long(void) {
  const long last = atomic_load(&last_arrival_s);
  return last != 0 && (long)wall_seconds() - last > 60;
}

int main(int argc, char** argv) {
  if (argc != 5 || (strcmp(argv[4], "async") != 0 && strcmp(argv[4], "loop") != 0)) {
    fprintf(stderr, "usage: natsc_receive URL SUBJECT COUNT async|loop\n");
    return 2;
  }
  const char *url = argv[1], *subject = argv[2];
  const int external_loop = strcmp(argv[4], "loop") == 0;
  wanted = atol(argv[3]);
  atomic_store(&last_arrival_s, (long)wall_seconds());

  natsOptions* options = NULL;
  natsConnection* nc = NULL;
  natsSubscription* sub = NULL;
  natsStatus s = nats_Open(-1);
  if (s == NATS_OK) s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetURL(options, url);
  if (s != NATS_OK) return fail("options", s);

  if (!external_loop) {
    s = natsOptions_UseGlobalMessageDelivery(options, true);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, options);
    if (s == NATS_OK) s = natsConnection_Subscribe(&sub, nc, subject, on_message, NULL);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
    if (s == NATS_OK) s = natsConnection_Flush(nc);
    if (s != NATS_OK) return fail("subscribe", s);
    printf("ready\n");
    fflush(stdout);
    while (!idle_too_long()) sleep(1);
    return 1;
  }

  loop.wake = eventfd(0, EFD_NONBLOCK);
  s = natsOptions_SetEventLoop(options, &loop, loop_attach, loop_read, loop_write, loop_detach);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, options);
  if (s == NATS_OK) s = natsConnection_SubscribeSync(&sub, nc, subject);
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
  if (s != NATS_OK) return fail("subscribe", s);
  pthread_t flusher;
  if (pthread_create(&flusher, NULL, flush_subscription, nc) != 0) return 1;
  pthread_detach(flusher);
  int announced = 0;
  while (!idle_too_long()) {
    struct pollfd fds[2] = {
        {loop.socket, (short)((atomic_load(&loop.read) ? POLLIN : 0) |
                              (atomic_load(&loop.write) ? POLLOUT : 0)), 0},
        {loop.wake, POLLIN, 0},
    };
    if (poll(fds, 2, 1000) < 0) continue;
    if (fds[1].revents & POLLIN) {
      uint64_t drained;
      if (read(loop.wake, &drained, sizeof drained) < 0) drained = 0;
    }
    if (fds[0].revents & POLLOUT) natsConnection_ProcessWriteEvent(nc);
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      natsConnection_ProcessReadEvent(nc);
      natsMsg* msg = NULL;
      while (natsSubscription_NextMsg(&msg, sub, 0) == NATS_OK) count(msg, "loop");
    }
    if (!announced && atomic_load(&subscribed)) {
      printf("ready\n");
      fflush(stdout);
      announced = 1;
    }
  }
  return 1;
}

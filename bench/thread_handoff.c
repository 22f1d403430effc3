/* What one thread hand-off costs on this machine: two threads pass a token back and forth
 * through a mutex and a condition variable (as nats.c's reader hands a message to its
 * delivery thread, and a gateway worker a message to the NATS publisher thread), and through
 * an eventfd watched with epoll (as Asio wakes a worker for a post). Each waits asleep, as
 * an idle thread does. Prints the p50 and p99 of one hand-off (a round trip over two) in
 * microseconds. Used by bench/nats.sh to explain the latency the bridge adds.
 *
 *   cc -O2 -pthread bench/thread_handoff.c -o handoff && ./handoff [ROUND_TRIPS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static void report(const char* what, double* half_rtt_us, int n) {
  qsort(half_rtt_us, (size_t)n, sizeof *half_rtt_us, compare);
  printf("%-28s p50 %6.1f us  p99 %6.1f us\n", what, half_rtt_us[n / 2], half_rtt_us[n * 99 / 100]);
}

/* --- mutex and condition variable ---------------------------------------------------- */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int turn = 0; /* 0: the main thread's, 1: the echo thread's, -1: stop */

static void* cond_echo(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mutex);
  for (;;) {
    while (turn == 0) pthread_cond_wait(&cond, &mutex);
    if (turn < 0) break;
    turn = 0;
    pthread_cond_broadcast(&cond);
  }
  pthread_mutex_unlock(&mutex);
  return NULL;
}

static void cond_bench(double* out, int n) {
  pthread_t t;
  pthread_create(&t, NULL, cond_echo, NULL);
  for (int i = 0; i < n; ++i) {
    usleep(100); /* let the echo thread fall asleep, as an idle thread is */
    const uint64_t start = now_ns();
    pthread_mutex_lock(&mutex);
    turn = 1;
    pthread_cond_broadcast(&cond);
    while (turn == 1) pthread_cond_wait(&cond, &mutex);
    pthread_mutex_unlock(&mutex);
    out[i] = (double)(now_ns() - start) / 2000.0;
  }
  pthread_mutex_lock(&mutex);
  turn = -1;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&mutex);
  pthread_join(t, NULL);
}

/* --- eventfd and epoll ------------------------------------------------------------------ */
static int to_echo, to_main;

static void wait_and_take(int fd) {
  const int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  struct epoll_event got;
  while (epoll_wait(ep, &got, 1, -1) != 1) {
  }
  uint64_t v;
  if (read(fd, &v, sizeof v) != sizeof v) abort();
  close(ep);
}

static void signal_fd(int fd, uint64_t v) {
  if (write(fd, &v, sizeof v) != sizeof v) abort();
}

static void* eventfd_echo(void* arg) {
  const int n = *(const int*)arg;
  for (int i = 0; i < n; ++i) {
    wait_and_take(to_echo);
    signal_fd(to_main, 1);
  }
  return NULL;
}

static void eventfd_bench(double* out, int n) {
  to_echo = eventfd(0, 0);
  to_main = eventfd(0, 0);
  pthread_t t;
  pthread_create(&t, NULL, eventfd_echo, &n);
  for (int i = 0; i < n; ++i) {
    usleep(100);
    const uint64_t start = now_ns();
    signal_fd(to_echo, 1);
    wait_and_take(to_main);
    out[i] = (double)(now_ns() - start) / 2000.0;
  }
  pthread_join(t, NULL);
  close(to_echo);
  close(to_main);
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 5000;
  if (n < 100) return 2;
  double* samples = malloc(sizeof(double) * (size_t)n);
  if (samples == NULL) return 1;
  cond_bench(samples, n);
  report("condition variable", samples, n);
  eventfd_bench(samples, n);
  report("eventfd + epoll", samples, n);
  free(samples);
  return 0;
}

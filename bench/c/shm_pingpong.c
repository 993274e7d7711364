/*
 * shm_pingpong.c: the floors bulkhead's data path is measured against: a bare shared-memory ping-pong
 * between two processes that both spin, and two 1 MiB memcpys through a shared mapping.
 *
 * Usage: shm_pingpong pingpong|memcpy WARMUP ITERATIONS MAX_MS (warmup calls are not timed)
 * Prints one JSON line: {"variant":...,"medianNs":...,"p99Ns":...,"iterations":...}.
 * Every wait is bounded: a peer that stops answering ends the run with an error, never a hang.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define LARGE (1u << 20)
#define STOP UINT64_MAX
#define WAIT_LIMIT_NS 2000000000ull /* a peer silent this long is gone */

/* Indices on their own cache lines so the two writers never share one. */
struct region {
  _Alignas(64) _Atomic uint64_t req;
  _Alignas(64) _Atomic uint64_t resp;
  _Alignas(64) unsigned char req_buf[MSG];
  _Alignas(64) unsigned char resp_buf[MSG];
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spins while *word still holds `old`; 0 with the new value in *seen, -1 if it never moved in WAIT_LIMIT_NS. */
static int spin_while(_Atomic uint64_t *word, uint64_t old, uint64_t *seen) {
  uint64_t started = 0;
  for (uint32_t spins = 1;; spins++) {
    uint64_t v = atomic_load_explicit(word, memory_order_acquire);
    if (v != old) {
      *seen = v;
      return 0;
    }
    cpu_relax();
    if ((spins & 4095) == 0) {
      uint64_t t = now_ns();
      if (!started) started = t;
      else if (t - started > WAIT_LIMIT_NS) return -1;
    }
  }
}

static void echo_child(struct region *r) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  uint64_t last = 0;
  for (;;) {
    uint64_t seq;
    if (spin_while(&r->req, last, &seq) != 0) _exit(2);
    if (seq == STOP) _exit(0);
    memcpy(r->resp_buf, r->req_buf, MSG);
    atomic_store_explicit(&r->resp, seq, memory_order_release);
    last = seq;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile, as bench/harness.ts computes it. */
static uint64_t percentile(const uint64_t *sorted, size_t n, double p) {
  size_t rank = (size_t)(p * (double)n + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static void report(const char *variant, uint64_t *samples, size_t n) {
  qsort(samples, n, sizeof *samples, cmp_u64);
  printf("{\"variant\":\"%s\",\"medianNs\":%llu,\"p99Ns\":%llu,\"iterations\":%zu}\n", variant,
         (unsigned long long)percentile(samples, n, 0.5), (unsigned long long)percentile(samples, n, 0.99), n);
}

static int pingpong(uint64_t *samples, size_t warmup, size_t iterations, uint64_t max_ns) {
  struct region *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) return perror("mmap"), 1;
  pid_t child = fork();
  if (child < 0) return perror("fork"), 1;
  if (child == 0) echo_child(r);

  unsigned char msg[MSG], out[MSG];
  memset(msg, 0xa5, sizeof msg);
  size_t n = 0;
  uint64_t deadline = 0, seen;
  for (uint64_t seq = 1; n < iterations; seq++) {
    uint64_t t0 = now_ns();
    memcpy(r->req_buf, msg, MSG);
    atomic_store_explicit(&r->req, seq, memory_order_release);
    if (spin_while(&r->resp, seq - 1, &seen) != 0 || seen != seq) {
      fprintf(stderr, "shm_pingpong: the echo process stopped answering\n");
      kill(child, SIGKILL);
      return 1;
    }
    memcpy(out, r->resp_buf, MSG);
    uint64_t t1 = now_ns();
    if (memcmp(out, msg, MSG) != 0) return fprintf(stderr, "shm_pingpong: echo mismatch\n"), 1;
    if (seq > warmup) {
      if (n == 0) deadline = t0 + max_ns;
      samples[n++] = t1 - t0;
      if (t1 > deadline) break;
    }
  }
  atomic_store_explicit(&r->req, STOP, memory_order_release);
  int status;
  waitpid(child, &status, 0);
  report("pingpong-64B", samples, n);
  return 0;
}

static int two_memcpys(uint64_t *samples, size_t warmup, size_t iterations, uint64_t max_ns) {
  unsigned char *shared = mmap(NULL, LARGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  unsigned char *src = malloc(LARGE), *dst = malloc(LARGE);
  if (shared == MAP_FAILED || !src || !dst) return fprintf(stderr, "shm_pingpong: out of memory\n"), 1;
  for (size_t i = 0; i < LARGE; i++) src[i] = (unsigned char)(i * 131u);
  memset(shared, 0, LARGE);
  memset(dst, 0, LARGE);

  size_t n = 0;
  uint64_t deadline = 0;
  for (size_t i = 0; n < iterations; i++) {
    uint64_t t0 = now_ns();
    memcpy(shared, src, LARGE);
    memcpy(dst, shared, LARGE);
    __asm__ __volatile__("" : : "r"(dst), "r"(shared) : "memory");
    uint64_t t1 = now_ns();
    if (i >= warmup) {
      if (n == 0) deadline = t0 + max_ns;
      samples[n++] = t1 - t0;
      if (t1 > deadline) break;
    }
  }
  if (memcmp(dst, src, LARGE) != 0) return fprintf(stderr, "shm_pingpong: copy mismatch\n"), 1;
  report("memcpy-2x1MiB", samples, n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) return fprintf(stderr, "usage: %s pingpong|memcpy WARMUP ITERATIONS MAX_MS\n", argv[0]), 2;
  size_t warmup = strtoul(argv[2], NULL, 10), iterations = strtoul(argv[3], NULL, 10);
  uint64_t max_ns = strtoull(argv[4], NULL, 10) * 1000000ull;
  uint64_t *samples = iterations ? malloc(iterations * sizeof *samples) : NULL;
  if (!samples) return fprintf(stderr, "shm_pingpong: bad ITERATIONS\n"), 2;
  if (strcmp(argv[1], "pingpong") == 0) return pingpong(samples, warmup, iterations, max_ns);
  if (strcmp(argv[1], "memcpy") == 0) return two_memcpys(samples, warmup, iterations, max_ns);
  return fprintf(stderr, "shm_pingpong: unknown mode %s\n", argv[1]), 2;
}

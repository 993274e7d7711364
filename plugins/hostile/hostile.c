/*
 * hostile.c: test fixture whose functions each attempt one attack on the sandbox or the host.
 *
 * The suite runs as root, so every attack is written to stay harmless if it ever escaped: real
 * signals go only to this process, probes at other pids use signal 0, files are written only at
 * the path the test passes in, and the only child ever forked exits at once.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead_plugin.h"
#include "errno_name.h"
#include "ring/region.h"

#define MAX_PATH_BYTES 4095u
#define MAX_READ_BYTES ((size_t)1 << 20)
#define BAD_PATH "Expected a path of at most 4095 bytes without NUL"

/* ---- helpers ---- */

/* Emits `len` bytes as the output; an empty output needs no output_alloc. */
static bh_status put(const bh_host *host, bh_output *out, const void *data, size_t len) {
  bh_status st;
  uint8_t *p;
  if (len == 0) return BH_OK;
  p = host->output_alloc(out, len, &st);
  if (p == NULL) return st;
  memcpy(p, data, len);
  return BH_OK;
}

static bh_status put_str(const bh_host *host, bh_output *out, const char *s) {
  return put(host, out, s, strlen(s));
}

static bh_status fail_str(const bh_host *host, bh_output *out, bh_status st, const char *msg) {
  host->set_error(out, msg, strlen(msg));
  return st;
}

/* Fails with "<what>: <ERRNAME>", the shape the tests match on. */
static bh_status fail_errno(const bh_host *host, bh_output *out, const char *what, int e) {
  char name[16], msg[96];
  snprintf(msg, sizeof msg, "%s: %s", what, errno_name(e, name));
  return fail_str(host, out, BH_ERR_FAILED, msg);
}

/* "<what>: ok", or the errno failure; the convention of every probe below. */
static bh_status report(const bh_host *host, bh_output *out, const char *what, int ok, int e) {
  char msg[96];
  if (!ok) return fail_errno(host, out, what, e);
  snprintf(msg, sizeof msg, "%s: ok", what);
  return put_str(host, out, msg);
}

/* Strict ASCII decimal, 1..19 digits, no sign: a malformed number never reaches a syscall. */
static int parse_u64(const uint8_t *in, size_t len, uint64_t max, uint64_t *v) {
  uint64_t n = 0;
  size_t i;
  if (len == 0 || len > 19) return 0;
  for (i = 0; i < len; i++) {
    if (in[i] < '0' || in[i] > '9') return 0;
    n = n * 10 + (uint64_t)(in[i] - '0');
  }
  if (n > max) return 0;
  *v = n;
  return 1;
}

static bh_status bad_number(const bh_host *host, bh_output *out, const char *what) {
  char msg[96];
  snprintf(msg, sizeof msg, "Expected an ASCII decimal %s", what);
  return fail_str(host, out, BH_ERR_INVALID_INPUT, msg);
}

/* The input as a C path; an embedded NUL would silently name a different file, so it is refused. */
static int copy_path(const uint8_t *in, size_t len, char path[MAX_PATH_BYTES + 1]) {
  if (len > MAX_PATH_BYTES || memchr(in, '\0', len) != NULL) return 0;
  memcpy(path, in, len);
  path[len] = '\0';
  return 1;
}

static bh_status read_path(const bh_host *host, bh_output *out, const char *path) {
  static uint8_t buf[MAX_READ_BYTES]; /* static: one call at a time, and no 1 MiB stack frame */
  size_t total = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(host, out, "open", errno);
  while (total < sizeof buf) {
    ssize_t n = read(fd, buf + total, sizeof buf - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return fail_errno(host, out, "read", e);
    }
    if (n == 0) break;
    total += (size_t)n;
  }
  close(fd);
  return put(host, out, buf, total);
}

/* Burns CPU without polling the deadline; the asm keeps the optimiser from dropping the loop. */
__attribute__((noreturn)) static void spin_forever(void) {
  for (;;) {
    __asm__ volatile("" ::: "memory");
  }
}

/* ---- well-behaved ---- */

static bh_status h_echo(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  return put(host, out, in, len);
}

static bh_status h_error(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  host->set_error(out, (const char *)in, len); /* any length: the host must truncate */
  return BH_ERR_FAILED;
}

/* ---- crashes, exits and hangs ---- */

static bh_status h_segfault(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  /* Both volatile: the compiler can neither see the NULL (and emit a trap) nor drop the store. */
  volatile int *volatile p = NULL;
  *p = 1;
  return BH_OK;
}

static bh_status h_abort(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  abort();
}

static bh_status h_spin(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  spin_forever();
}

static bh_status h_sleep_ms(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  uint64_t ms;
  struct timespec ts;
  if (!parse_u64(in, len, 86400000u, &ms)) {
    return bad_number(host, out, "millisecond count <= 1 day");
  }
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return put_str(host, out, "slept");
}

/* The cooperative case: without a deadline on the call this never returns. */
static bh_status h_deadline_aware(const bh_host *host, const uint8_t *in, size_t len,
                                  bh_output *out) {
  const struct timespec tick = {0, 100000L};
  while (!host->deadline_passed(host)) nanosleep(&tick, NULL);
  return fail_str(host, out, BH_ERR_DEADLINE, "deadline passed");
}

static bh_status h_exit_now(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  _exit(3);
}

/* exit(), not _exit(): atexit handlers run in the sandbox (and, in the ASAN build, whatever the
 * sanitizer runtime does at exit). */
static bh_status h_exit_atexit(const bh_host *host, const uint8_t *in, size_t len,
                               bh_output *out) {
  exit(3);
}

/* A self-sent SIGSYS carries si_code SI_TKILL, not SYS_SECCOMP: the host must not report it as a
 * sandbox violation. */
static bh_status h_raise_sigsys(const bh_host *host, const uint8_t *in, size_t len,
                                bh_output *out) {
  raise(SIGSYS);
  return fail_str(host, out, BH_ERR_FAILED, "raise: SIGSYS returned");
}

/* ---- filesystem ---- */

static bh_status h_read_file(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char path[MAX_PATH_BYTES + 1];
  if (!copy_path(in, len, path)) {
    return fail_str(host, out, BH_ERR_INVALID_INPUT, BAD_PATH);
  }
  return read_path(host, out, path);
}

static bh_status h_write_file(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static const char payload[] = "pwned";
  char path[MAX_PATH_BYTES + 1];
  size_t done = 0;
  int fd;
  if (!copy_path(in, len, path)) {
    return fail_str(host, out, BH_ERR_INVALID_INPUT, BAD_PATH);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno(host, out, "open", errno);
  while (done < sizeof payload - 1) {
    ssize_t n = write(fd, payload + done, sizeof payload - 1 - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return fail_errno(host, out, "write", e);
    }
    done += (size_t)n;
  }
  close(fd);
  return put_str(host, out, "written");
}

/* Landlock should deny /proc like any path not granted. */
static bh_status h_self_status(const bh_host *host, const uint8_t *in, size_t len,
                               bh_output *out) {
  return read_path(host, out, "/proc/self/status");
}

/* ---- network, processes, threads ---- */

static bh_status h_connect_tcp(const bh_host *host, const uint8_t *in, size_t len,
                               bh_output *out) {
  uint64_t port;
  struct sockaddr_in addr;
  int fd, r;
  if (!parse_u64(in, len, 65535u, &port) || port == 0) {
    return bad_number(host, out, "port 1..65535");
  }
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fail_errno(host, out, "socket", errno);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only: nothing leaves the machine */
  r = connect(fd, (const struct sockaddr *)&addr, sizeof addr);
  if (r != 0) {
    int e = errno;
    close(fd);
    return fail_errno(host, out, "connect", e);
  }
  close(fd);
  return put_str(host, out, "connected");
}

/* /bin/true with an empty environment: an escape would run a program that does nothing. */
static bh_status h_execve(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char *const argv[] = {(char *)"true", NULL};
  char *const envp[] = {NULL};
  execve("/bin/true", argv, envp);
  return fail_errno(host, out, "execve", errno);
}

static bh_status h_fork(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid < 0) return fail_errno(host, out, "fork", errno);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return put_str(host, out, "forked");
}

static void *thread_main(void *arg) { return arg; }

static bh_status h_thread(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  pthread_t t;
  int r = pthread_create(&t, NULL, thread_main, NULL);
  if (r != 0) return fail_errno(host, out, "pthread_create", r); /* returns the error, no errno */
  pthread_join(t, NULL);
  return put_str(host, out, "thread ran");
}

/* ---- other processes: signal 0 and TRACEME only, which change nothing if they succeed ---- */

static bh_status h_signal_pid(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  uint64_t pid;
  int ok;
  /* pid 0 and negatives address process groups; only a single positive pid is probed. */
  if (!parse_u64(in, len, 0x7fffffffu, &pid) || pid == 0) return bad_number(host, out, "pid > 0");
  ok = kill((pid_t)pid, 0) == 0; /* before reading errno: argument order is unspecified */
  return report(host, out, "kill", ok, errno);
}

static bh_status h_signal_parent(const bh_host *host, const uint8_t *in, size_t len,
                                 bh_output *out) {
  pid_t ppid = getppid();
  int ok;
  /* 0 when the parent is outside our pid namespace; kill(0, ...) would address our group. */
  if (ppid <= 0) return fail_str(host, out, BH_ERR_FAILED, "kill: no parent pid visible");
  ok = kill(ppid, 0) == 0;
  return report(host, out, "kill", ok, errno);
}

/* TRACEME offers this process to its parent (the zygote) as a tracee: no pid to get wrong. */
static bh_status h_ptrace_parent(const bh_host *host, const uint8_t *in, size_t len,
                                 bh_output *out) {
  long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
  return report(host, out, "ptrace", r == 0, errno);
}

/* ---- other syscall ABIs (x86-64 only) ---- */

static bh_status h_int80(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
#if defined(__x86_64__)
  char msg[64];
  long r = 20; /* i386 getpid: the filter must reject the arch before it looks at the number */
  __asm__ volatile("int $0x80" : "+a"(r) : : "memory", "cc", "r8", "r9", "r10", "r11");
  snprintf(msg, sizeof msg, "int80 returned %ld", r);
  return put_str(host, out, msg);
#else
  return fail_str(host, out, BH_ERR_UNSUPPORTED, "int80: x86-64 only");
#endif
}

static bh_status h_x32(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
#if defined(__x86_64__)
  char msg[64], name[16];
  long r;
  errno = 0;
  r = syscall(0x40000000L | 39L); /* x32 getpid: arch X86_64, so only the number check stops it */
  snprintf(msg, sizeof msg, "x32 returned %ld errno %s", r, errno_name(errno, name));
  return put_str(host, out, msg);
#else
  return fail_str(host, out, BH_ERR_UNSUPPORTED, "x32: x86-64 only");
#endif
}

/* ---- host-facing abuse ---- */

static bh_status h_big_output(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  uint64_t n;
  bh_status st;
  uint8_t *p;
  if (!parse_u64(in, len, SIZE_MAX, &n)) return bad_number(host, out, "byte count");
  p = host->output_alloc(out, (size_t)n, &st);
  if (p == NULL) return st;
  memset(p, 0xAB, (size_t)n);
  return BH_OK;
}

static bh_status h_log_flood(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char line[2000]; /* longer than BH_MAX_LOG_BYTES on purpose */
  int i;
  memset(line, 'L', sizeof line);
  for (i = 0; i < 10000; i++) host->log(host, BH_LOG_INFO, line, sizeof line);
  return put_str(host, out, "logged");
}

/* Finds the region header by walking back from a pointer into the response ring. The region is one
 * page-aligned mapping, so every page between the two is mapped. */
static bh_region_header *find_region(const uint8_t *p) {
  uintptr_t at = (uintptr_t)p & ~(uintptr_t)4095;
  uint32_t i;
  for (i = 0; i < (1u << 17); i++, at -= 4096) {
    const bh_region_header *h = (const bh_region_header *)at;
    uintptr_t resp;
    if (h->magic != BH_REGION_MAGIC || h->version != BH_REGION_VERSION) continue;
    /* Ring bytes can look like a header; the real one places p inside its response ring. */
    if (h->capacity == 0 || h->capacity > UINTPTR_MAX / 4) continue;
    resp = at + (uintptr_t)BH_RESP_RING_OFFSET(h->capacity);
    if ((uintptr_t)p >= resp && (uintptr_t)p < resp + (uintptr_t)h->capacity) {
      return (bh_region_header *)at;
    }
  }
  return NULL;
}

/* Publishes a forged 64-byte response header at the producer position. */
static void forge_response(bh_region_header *h, uint32_t call_id, uint64_t payload_len) {
  uint64_t tail = __atomic_load_n(&h->resp_tail, __ATOMIC_RELAXED);
  bh_msg m;
  memset(&m, 0, sizeof m);
  m.kind = BH_MSG_RESPONSE;
  m.call_id = call_id;
  m.payload_len = payload_len;
  /* tail is 64-aligned and capacity a multiple of 64, so the header does not wrap. */
  memcpy((uint8_t *)h + BH_RESP_RING_OFFSET(h->capacity) + tail % h->capacity, &m, sizeof m);
  __atomic_store_n(&h->resp_tail, tail + BH_MSG_HEADER_BYTES, __ATOMIC_RELEASE);
}

/*
 * Breaks the response ring in one of three ways, wakes the host, then never returns: the host must
 * act on the corruption (protocol error, worker killed), not on a normal completion.
 */
static bh_status h_corrupt_ring(const bh_host *host, const uint8_t *in, size_t len,
                                bh_output *out) {
  enum { TAIL_PAST, HUGE_LEN, WRONG_ID, VALID_THEN_GARBAGE } mode;
  bh_region_header *h;
  bh_status st;
  uint8_t *p;
  if (len == 9 && memcmp(in, "tail_past", 9) == 0) {
    mode = TAIL_PAST;
  } else if (len == 8 && memcmp(in, "huge_len", 8) == 0) {
    mode = HUGE_LEN;
  } else if (len == 8 && memcmp(in, "wrong_id", 8) == 0) {
    mode = WRONG_ID;
  } else if (len == 18 && memcmp(in, "valid_then_garbage", 18) == 0) {
    mode = VALID_THEN_GARBAGE;
  } else {
    return fail_str(host, out, BH_ERR_INVALID_INPUT,
                    "Expected tail_past, huge_len, wrong_id or valid_then_garbage");
  }
  p = host->output_alloc(out, 1, &st);
  if (p == NULL) return st;
  h = find_region(p);
  if (h == NULL) return fail_str(host, out, BH_ERR_UNSUPPORTED, "region header not found");

  switch (mode) {
    case TAIL_PAST: /* claims more unread bytes than the ring holds */
      __atomic_store_n(&h->resp_tail, h->resp_head + h->capacity * 4, __ATOMIC_RELEASE);
      break;
    case HUGE_LEN: /* a length no ring can hold, and an id the host never issued */
      forge_response(h, 0xFFFFFFFFu, (uint64_t)1 << 62);
      break;
    case WRONG_ID: /* well-formed, but answers a call that does not exist */
      forge_response(h, 0xFFFFFFFEu, 0);
      break;
    case VALID_THEN_GARBAGE: {
      /* A correct, empty answer to this very call (its id is in the request header just before the
       * input), then a message of an unknown kind: the host must keep the answer and still reject
       * the worker. The input sits in the request ring only when it did not wrap, as here. */
      const bh_msg *req = (const bh_msg *)(in - BH_MSG_HEADER_BYTES);
      uint64_t tail;
      forge_response(h, req->call_id, 0);
      tail = __atomic_load_n(&h->resp_tail, __ATOMIC_RELAXED);
      memset((uint8_t *)h + BH_RESP_RING_OFFSET(h->capacity) + tail % h->capacity, 0xEE, BH_MSG_HEADER_BYTES);
      __atomic_store_n(&h->resp_tail, tail + BH_MSG_HEADER_BYTES, __ATOMIC_RELEASE);
      break;
    }
  }
  __atomic_fetch_add(&h->resp_futex, 1, __ATOMIC_RELEASE);
  /* A host blocked in callSync sleeps on resp_futex and needs the wake to look. */
  if (__atomic_load_n(&h->host_waiting, __ATOMIC_ACQUIRE) == BH_HOST_FUTEX) {
    syscall(SYS_futex, &h->resp_futex, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
  }
  spin_forever();
}

/* Wakes the host the way the worker's own ring does (cpp/ring/worker_ring.cc, NotifyHost). */
static void wake_host(bh_region_header *h) {
  const uint64_t one = 1;
  uint32_t mode = __atomic_load_n(&h->host_waiting, __ATOMIC_SEQ_CST);
  if (mode == BH_HOST_FUTEX) {
    __atomic_fetch_add(&h->resp_futex, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &h->resp_futex, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
  } else if (mode == BH_HOST_EVENTFD) {
    ssize_t n = write(4, &one, sizeof one); /* kWorkerEventFd */
    (void)n;
  }
}

/* Publishes one message of at most 64 payload bytes at *tail once the host made room; 0 when the
 * call's deadline passed first. Positions are 64-aligned, so neither part straddles the end. */
static int raw_publish(const bh_host *host, bh_region_header *h, uint64_t *tail, const bh_msg *m,
                       const void *body, size_t len) {
  uint8_t *ring = (uint8_t *)h + BH_RESP_RING_OFFSET(h->capacity);
  const uint64_t footprint = bh_msg_footprint(len, 0);
  const struct timespec tick = {0, 20000L};
  while (h->capacity - (*tail - __atomic_load_n(&h->resp_head, __ATOMIC_ACQUIRE)) < footprint) {
    wake_host(h);
    if (host->deadline_passed(host)) return 0;
    nanosleep(&tick, NULL);
  }
  memcpy(ring + *tail % h->capacity, m, sizeof *m);
  if (len) memcpy(ring + (*tail + BH_MSG_HEADER_BYTES) % h->capacity, body, len);
  *tail += footprint;
  __atomic_store_n(&h->resp_tail, *tail, __ATOMIC_RELEASE);
  return 1;
}

/*
 * Input: a count (<= 10^7). Writes that many log lines ("raw 0", "raw 1", ...) for this call
 * straight into the response ring, past the worker-side cap of host->log, then its own response
 * "flooded", and waits until the host has read it all. The worker's ring code never learns of
 * these messages, so handing control back to it would publish at a stale position; the worker
 * exits instead (the host replaces it).
 */
static bh_status h_log_flood_raw(const bh_host *host, const uint8_t *in, size_t len,
                                 bh_output *out) {
  static const char done[] = "flooded";
  uint64_t count, i, tail;
  bh_region_header *h;
  const bh_msg *req;
  bh_status st;
  uint8_t *p;
  bh_msg m;
  if (!parse_u64(in, len, 10000000u, &count)) return bad_number(host, out, "line count <= 10^7");
  p = host->output_alloc(out, 1, &st);
  if (p == NULL) return st;
  h = find_region(p);
  if (h == NULL) return fail_str(host, out, BH_ERR_UNSUPPORTED, "region header not found");
  /* This call's request is not consumed yet: its header sits at the request ring's head. */
  req = (const bh_msg *)((const uint8_t *)h + BH_REQ_RING_OFFSET + h->req_head % h->capacity);
  tail = __atomic_load_n(&h->resp_tail, __ATOMIC_RELAXED);
  memset(&m, 0, sizeof m);
  m.kind = BH_MSG_LOG;
  m.call_id = req->call_id;
  m.code = BH_LOG_INFO;
  for (i = 0; i < count; i++) {
    char line[32];
    int n = snprintf(line, sizeof line, "raw %llu", (unsigned long long)i);
    m.payload_len = (uint64_t)n;
    if (!raw_publish(host, h, &tail, &m, line, (size_t)n)) _exit(1);
    if ((i & 1023) == 1023) wake_host(h);
  }
  m.kind = BH_MSG_RESPONSE;
  m.code = BH_OK;
  m.payload_len = sizeof done - 1;
  if (!raw_publish(host, h, &tail, &m, done, sizeof done - 1)) _exit(1);
  wake_host(h);
  while (__atomic_load_n(&h->resp_head, __ATOMIC_ACQUIRE) != tail) {
    const struct timespec tick = {0, 100000L};
    if (host->deadline_passed(host)) _exit(1);
    nanosleep(&tick, NULL);
  }
  _exit(0);
}

/* Logs its input as one warn line: the host must show control bytes escaped, not act on them. */
static bh_status h_log_line(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  host->log(host, BH_LOG_WARN, (const char *)in, len);
  return put_str(host, out, "logged");
}

/* Input: up to 47 bytes. Leaves a crash report whose innermost frame names the input as its
 * symbol, then dies by a signal the crash handler cannot catch, so the report stays as forged. */
static bh_status h_forged_crash(const bh_host *host, const uint8_t *in, size_t len,
                                bh_output *out) {
  bh_region_header *h;
  bh_status st;
  uint8_t *p;
  if (len >= BH_CRASH_SYMBOL_BYTES || memchr(in, '\0', len) != NULL) {
    return fail_str(host, out, BH_ERR_INVALID_INPUT, "Expected at most 47 bytes without NUL");
  }
  p = host->output_alloc(out, 1, &st);
  if (p == NULL) return st;
  h = find_region(p);
  if (h == NULL) return fail_str(host, out, BH_ERR_UNSUPPORTED, "region header not found");
  memset(&h->crash, 0, sizeof h->crash);
  h->crash.signo = SIGSEGV;
  h->crash.code = 1; /* SEGV_MAPERR */
  h->crash.frame_count = 1;
  h->crash.frames[0].module = BH_CRASH_MODULE_PLUGIN;
  h->crash.frames[0].offset = 0x1234;
  memcpy(h->crash.frames[0].symbol, in, len);
  __atomic_store_n(&h->crash.kind, BH_CRASH_MAGIC, __ATOMIC_RELEASE);
  raise(SIGKILL);
  return fail_str(host, out, BH_ERR_FAILED, "raise: SIGKILL returned");
}

/* ---- inherited state ---- */

static bh_status h_touch_fd(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  uint64_t fd;
  if (!parse_u64(in, len, 0x7fffffffu, &fd)) return bad_number(host, out, "fd");
  if (fcntl((int)fd, F_GETFD) < 0) return fail_errno(host, out, "fcntl", errno);
  return put_str(host, out, "fd open");
}

static bh_status h_scan_fds(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char list[1024 * 5]; /* up to 1024 entries of at most 4 digits and a comma */
  size_t used = 0;
  int fd;
  for (fd = 0; fd < 1024; fd++) {
    if (fcntl(fd, F_GETFD) < 0) continue;
    used += (size_t)snprintf(list + used, sizeof list - used, used ? ",%d" : "%d", fd);
  }
  return put(host, out, list, used);
}

static bh_status h_getenv_dump(const bh_host *host, const uint8_t *in, size_t len,
                               bh_output *out) {
  size_t total = 0, at = 0, i;
  bh_status st;
  uint8_t *p;
  for (i = 0; environ[i] != NULL; i++) total += strlen(environ[i]) + 1;
  if (total == 0) return BH_OK;
  p = host->output_alloc(out, total - 1, &st); /* n entries, n - 1 separators */
  if (p == NULL) return st;
  for (i = 0; environ[i] != NULL; i++) {
    size_t n = strlen(environ[i]);
    if (at != 0) p[at++] = '\n';
    memcpy(p + at, environ[i], n);
    at += n;
  }
  return BH_OK;
}

/* ---- crash reports ---- */

/* Exported (so dladdr names them), never inlined or cloned, and each does work after its call (no
 * tail call), so every one keeps a frame of its own in the crash report. */
int bh_deep_a(volatile int *p);
int bh_deep_b(volatile int *p);
int bh_deep_c(volatile int *p);
int bh_overflow(int depth);

__attribute__((noinline, noclone)) int bh_deep_c(volatile int *p) {
  *p = 1; /* p is NULL */
  return *p + 1;
}

__attribute__((noinline, noclone)) int bh_deep_b(volatile int *p) { return bh_deep_c(p) + 1; }

__attribute__((noinline, noclone)) int bh_deep_a(volatile int *p) { return bh_deep_b(p) + 1; }

static bh_status h_crash_deep(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  volatile int *volatile p = NULL; /* volatile: the compiler cannot see the NULL and emit a trap */
  bh_deep_a(p);
  return fail_str(host, out, BH_ERR_FAILED, "crash_deep: survived a NULL write");
}

/* A kilobyte of stack per level, used after the recursive call: neither a loop nor a tail call.
 * Unbounded on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline, noclone)) int bh_overflow(int depth) {
  volatile char pad[1024];
  pad[0] = (char)depth;
  pad[sizeof pad - 1] = (char)bh_overflow(depth + 1);
  return pad[0] + pad[sizeof pad - 1];
}
#pragma GCC diagnostic pop

static bh_status h_stack_overflow(const bh_host *host, const uint8_t *in, size_t len,
                                  bh_output *out) {
  bh_overflow(0);
  return fail_str(host, out, BH_ERR_FAILED, "stack_overflow: recursion returned");
}

/* ---- files beneath a write grant ---- */

/* "path:bytes" (bytes <= max) parsed and the file opened for writing; -EINVAL for bad input, else
 * -errno of the open. */
static int open_path_bytes(const uint8_t *in, size_t len, uint64_t max, uint64_t *want) {
  char path[MAX_PATH_BYTES + 1];
  const uint8_t *colon = NULL;
  size_t i;
  int fd;
  for (i = len; i > 0; i--) {
    if (in[i - 1] == ':') {
      colon = in + i - 1;
      break;
    }
  }
  if (colon == NULL || !copy_path(in, (size_t)(colon - in), path) ||
      !parse_u64(colon + 1, len - (size_t)(colon - in) - 1, max, want)) {
    return -EINVAL;
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  return fd < 0 ? -errno : fd;
}

/* A file and how much a thread left behind a call writes to it. */
struct write_job {
  int fd;
  uint64_t want;
};

/* Opens "path:bytes" (bytes <= max) into *job and starts fn(job) on a detached thread: BH_OK, or
 * the failure, already put. */
static bh_status start_write_thread(const bh_host *host, const uint8_t *in, size_t len, uint64_t max,
                                    struct write_job *job, void *(*fn)(void *), bh_output *out) {
  pthread_t t;
  job->fd = open_path_bytes(in, len, max, &job->want);
  if (job->fd == -EINVAL) return fail_str(host, out, BH_ERR_INVALID_INPUT, "Expected path:bytes");
  if (job->fd < 0) return fail_errno(host, out, "open", -job->fd);
  if (pthread_create(&t, NULL, fn, job) != 0) {
    close(job->fd);
    return fail_str(host, out, BH_ERR_FAILED, "pthread_create");
  }
  pthread_detach(t);
  return BH_OK;
}

/* Input "path:bytes": writes that many zero bytes in 64 KiB chunks; "wrote N" or the errno. */
static bh_status h_write_big(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static const uint8_t chunk[64 * 1024];
  char msg[64];
  uint64_t want, done = 0;
  int fd = open_path_bytes(in, len, (uint64_t)1 << 40, &want);
  if (fd == -EINVAL) return fail_str(host, out, BH_ERR_INVALID_INPUT, "Expected path:bytes");
  if (fd < 0) return fail_errno(host, out, "open", -fd);
  while (done < want) {
    size_t n = want - done < sizeof chunk ? (size_t)(want - done) : sizeof chunk;
    ssize_t w = write(fd, chunk, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      return fail_errno(host, out, "write", e);
    }
    done += (uint64_t)w;
  }
  close(fd);
  snprintf(msg, sizeof msg, "wrote %llu", (unsigned long long)done);
  return put_str(host, out, msg);
}

struct fs_log {
  char text[512];
  size_t used;
};

static void fs_note(struct fs_log *log, const char *what, int ok, int e) {
  char name[16];
  int n = snprintf(log->text + log->used, sizeof log->text - log->used, "%s%s:%s",
                   log->used ? " " : "", what, ok ? "ok" : errno_name(e, name));
  if (n > 0 && (size_t)n < sizeof log->text - log->used) log->used += (size_t)n;
}

/* Every filesystem call a write grant allows, in <dir>, each noted as "call:ok" or "call:ERRNO";
 * then the ones it never allows (renameat2 flags, a move between directories, O_TMPFILE).
 * Cleans up after itself. */
static bh_status h_fs_ops(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char dir[MAX_PATH_BYTES + 1], d[MAX_PATH_BYTES + 8], e[MAX_PATH_BYTES + 8];
  char f[MAX_PATH_BYTES + 8], g[MAX_PATH_BYTES + 8], h[MAX_PATH_BYTES + 8], top[MAX_PATH_BYTES + 8];
  struct fs_log log;
  DIR *listing;
  int fd, ok;
  if (len > MAX_PATH_BYTES - 4 || !copy_path(in, len, dir)) {
    return fail_str(host, out, BH_ERR_INVALID_INPUT, BAD_PATH);
  }
  snprintf(d, sizeof d, "%s/d", dir);
  snprintf(e, sizeof e, "%s/d/e", dir);
  snprintf(f, sizeof f, "%s/d/f", dir);
  snprintf(g, sizeof g, "%s/d/g", dir);
  snprintf(h, sizeof h, "%s/d/h", dir);
  snprintf(top, sizeof top, "%s/h", dir);
  log.used = 0;
  log.text[0] = '\0';
  ok = mkdir(d, 0700) == 0;
  fs_note(&log, "mkdir", ok, errno);
  ok = mkdirat(AT_FDCWD, e, 0700) == 0;
  fs_note(&log, "mkdirat", ok, errno);
  fd = open(f, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  fs_note(&log, "open", fd >= 0, errno);
  ok = ftruncate(fd, 8192) == 0;
  fs_note(&log, "ftruncate", ok, errno);
  ok = fallocate(fd, 0, 0, 16384) == 0;
  fs_note(&log, "fallocate", ok, errno);
  ok = fsync(fd) == 0;
  fs_note(&log, "fsync", ok, errno);
  if (fd >= 0) close(fd);
  ok = rename(f, g) == 0;
  fs_note(&log, "rename", ok, errno);
  ok = syscall(SYS_renameat2, AT_FDCWD, g, AT_FDCWD, h, 0) == 0;
  fs_note(&log, "renameat2", ok, errno);
  ok = syscall(SYS_renameat2, AT_FDCWD, h, AT_FDCWD, e, RENAME_EXCHANGE) == 0;
  fs_note(&log, "exchange", ok, errno);
  ok = rename(h, top) == 0; /* to the parent directory: a move Landlock refuses without REFER */
  fs_note(&log, "move", ok, errno);
  fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  fs_note(&log, "tmpfile", fd >= 0, errno);
  if (fd >= 0) close(fd);
  listing = opendir(dir);
  fs_note(&log, "opendir", listing != NULL, errno);
  if (listing != NULL) closedir(listing);
  ok = unlink(h) == 0;
  fs_note(&log, "unlink", ok, errno);
  ok = unlinkat(AT_FDCWD, e, AT_REMOVEDIR) == 0;
  fs_note(&log, "unlinkat", ok, errno);
  ok = rmdir(d) == 0;
  fs_note(&log, "rmdir", ok, errno);
  return put(host, out, log.text, log.used);
}

/* ---- resource exhaustion ---- */

static uint64_t own_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins until this process has used that many ms of CPU time (not wall time: a descheduled worker
 * burns nothing). */
static bh_status h_cpu_burn(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  uint64_t ms, start;
  if (!parse_u64(in, len, 86400000u, &ms)) return bad_number(host, out, "millisecond count <= 1 day");
  start = own_cpu_ns();
  while (own_cpu_ns() - start < ms * 1000000u) {
  }
  return put_str(host, out, "burned");
}

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *burn_thread(void *arg) {
  uint64_t ms = *(const uint64_t *)arg, start = thread_cpu_ns();
  while (thread_cpu_ns() - start < ms * 1000000u) {
  }
  return NULL;
}

/* cpu_burn on a second thread while the main one waits for it: a CPU budget counts every thread. */
static bh_status h_cpu_burn_thread(const bh_host *host, const uint8_t *in, size_t len,
                                   bh_output *out) {
  static uint64_t ms;
  pthread_t t;
  if (!parse_u64(in, len, 86400000u, &ms)) return bad_number(host, out, "millisecond count <= 1 day");
  if (pthread_create(&t, NULL, burn_thread, &ms) != 0) return fail_str(host, out, BH_ERR_FAILED, "pthread_create");
  pthread_join(t, NULL);
  return put_str(host, out, "burned");
}

/* Parses "ms" (<= max) into *ms, then leaves a detached thread running fn(ms) behind the call. */
static bh_status leave_thread(const bh_host *host, const uint8_t *in, size_t len, uint64_t max,
                              uint64_t *ms, void *(*fn)(void *), bh_output *out) {
  pthread_t t;
  if (!parse_u64(in, len, max, ms)) return bad_number(host, out, "millisecond count in range");
  if (pthread_create(&t, NULL, fn, ms) != 0) return fail_str(host, out, BH_ERR_FAILED, "pthread_create");
  pthread_detach(t);
  return put_str(host, out, "started");
}

/* Leaves a thread behind that burns "ms" of its own CPU after the call has returned: a worker's
 * threads are watched while no call runs. */
static bh_status h_bg_burn(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static uint64_t ms;
  return leave_thread(host, in, len, 86400000u, &ms, burn_thread, out);
}

/* Leaves a detached thread behind that ends the whole process "ms" after the call returned. */
static void *exit_after(void *arg) {
  uint64_t ms = *(const uint64_t *)arg;
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  _exit(3);
  return NULL;
}

static bh_status h_exit_soon(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static uint64_t ms;
  return leave_thread(host, in, len, 60000u, &ms, exit_after, out);
}

/* Leaves a detached thread behind that rewrites the first 64 KiB of "path" at a pace (so no file
 * grows past its size limit) until "bytes" are written: writes between calls count too. */
static void *rewrite_detached(void *arg) {
  static const uint8_t chunk[64 * 1024];
  const struct write_job *job = arg;
  uint64_t done = 0;
  struct timespec ts = {0, 1000000};
  unsigned i;
  for (i = 0; done < job->want && i < (1u << 20); i++) {
    ssize_t w = pwrite(job->fd, chunk, sizeof chunk, 0);
    if (w < 0 && errno != EINTR) break;
    if (w > 0) done += (uint64_t)w;
    nanosleep(&ts, NULL);
  }
  close(job->fd);
  return NULL;
}

static bh_status h_bg_write(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static struct write_job job;
  bh_status st = start_write_thread(host, in, len, (uint64_t)1 << 34, &job, rewrite_detached, out);
  return st != BH_OK ? st : put_str(host, out, "started");
}

/* cpu_burn that logs a line every 10 ms of CPU: a call's log lines must not restart the clock of
 * its CPU budget (or of any other watch on it). */
static bh_status h_cpu_burn_logging(const bh_host *host, const uint8_t *in, size_t len,
                                    bh_output *out) {
  uint64_t ms, start, next;
  if (!parse_u64(in, len, 86400000u, &ms)) return bad_number(host, out, "millisecond count <= 1 day");
  start = next = own_cpu_ns();
  while (own_cpu_ns() - start < ms * 1000000u) {
    if (own_cpu_ns() >= next) {
      host->log(host, BH_LOG_INFO, "burning", 7);
      next += 10000000u;
    }
  }
  return put_str(host, out, "burned");
}

/* Takes and touches 1 MiB blocks until malloc fails or the count is reached; reports how many MiB
 * it got, then gives them back so the worker can serve again. */
static bh_status h_alloc_bomb(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  const size_t block = (size_t)1 << 20;
  uint64_t want, got = 0;
  void *head = NULL;
  char msg[32];
  if (!parse_u64(in, len, (uint64_t)1 << 20, &want)) return bad_number(host, out, "MiB count");
  while (got < want) {
    void *b = malloc(block);
    if (b == NULL) break;
    memset(b, 0xA5, block);
    *(void **)b = head; /* a list through the blocks themselves */
    head = b;
    got++;
  }
  while (head != NULL) {
    void *next = *(void **)head;
    free(head);
    head = next;
  }
  snprintf(msg, sizeof msg, "%llu", (unsigned long long)got);
  return put_str(host, out, msg);
}

static bh_status h_fork_bomb(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  unsigned ok = 0, failed = 0, i;
  char msg[64];
  for (i = 0; i < 1000; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0) {
      failed++;
      continue;
    }
    ok++;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  snprintf(msg, sizeof msg, "forks ok %u failed %u", ok, failed);
  return put_str(host, out, msg);
}

static void *sleep_one_second(void *arg) {
  struct timespec ts = {1, 0};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return arg;
}

/* Detached threads on small stacks, until one cannot be created; reports how many were. */
static bh_status h_thread_bomb(const bh_host *host, const uint8_t *in, size_t len,
                               bh_output *out) {
  pthread_attr_t attr;
  unsigned count = 0;
  char msg[32];
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  while (count < 10000) {
    pthread_t t;
    if (pthread_create(&t, &attr, sleep_one_second, NULL) != 0) break;
    count++;
  }
  pthread_attr_destroy(&attr);
  snprintf(msg, sizeof msg, "%u", count);
  return put_str(host, out, msg);
}

/* Threads created at once by many threads: the main thread starts up to 16, each of which tries to
 * start 16 more; every thread sleeps a second, so none ends during the storm. Reports how many
 * were created in all (a thread grant must bound it, however many threads clone together). */
static unsigned storm_made;

/* Starts 16 detached threads of fn on small stacks, counting those created in storm_made. */
static void storm_start(void *(*fn)(void *)) {
  pthread_attr_t attr;
  int i;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (i = 0; i < 16; i++) {
    pthread_t t;
    if (pthread_create(&t, &attr, fn, NULL) == 0) __atomic_add_fetch(&storm_made, 1, __ATOMIC_SEQ_CST);
  }
  pthread_attr_destroy(&attr);
}

static void *storm_child(void *arg) {
  storm_start(sleep_one_second);
  return sleep_one_second(arg);
}

static bh_status h_thread_storm(const bh_host *host, const uint8_t *in, size_t len,
                                bh_output *out) {
  struct timespec settle = {0, 300000000};
  char msg[32];
  storm_made = 0;
  storm_start(storm_child);
  nanosleep(&settle, NULL);  /* the children's attempts are over */
  snprintf(msg, sizeof msg, "%u", __atomic_load_n(&storm_made, __ATOMIC_SEQ_CST));
  return put_str(host, out, msg);
}

/* A chain of threads, each started by the one before and waiting for the next: "depth" of them
 * alive at once, all started by threads other than main but the first. Reports the depth
 * reached (a grant of N must give N, however the threads are nested). */
static void *chain_link(void *arg) {
  uintptr_t left = (uintptr_t)arg, reached = 0;
  pthread_t t;
  void *r = NULL;
  if (left > 1 && pthread_create(&t, NULL, chain_link, (void *)(left - 1)) == 0) {
    pthread_join(t, &r);
    reached = (uintptr_t)r;
  }
  return (void *)(reached + 1);
}

static bh_status h_thread_chain(const bh_host *host, const uint8_t *in, size_t len,
                                bh_output *out) {
  uint64_t depth;
  pthread_t t;
  void *r = NULL;
  char msg[32];
  if (!parse_u64(in, len, 64, &depth) || depth == 0) return bad_number(host, out, "depth 1..64");
  if (pthread_create(&t, NULL, chain_link, (void *)(uintptr_t)depth) != 0) return put_str(host, out, "0");
  pthread_join(t, &r);
  snprintf(msg, sizeof msg, "%lu", (unsigned long)(uintptr_t)r);
  return put_str(host, out, msg);
}

/* What real libraries probe and go on without: each call noted "name:ok" or "name:ERRNO". */
static void probe_note(char *log, size_t size, const char *what, int ok, int e) {
  char name[16];
  size_t used = strlen(log);
  snprintf(log + used, size - used, "%s%s:%s", used ? " " : "", what, ok ? "ok" : errno_name(e, name));
}

static bh_status h_harmless_probes(const bh_host *host, const uint8_t *in, size_t len,
                                   bh_output *out) {
  static char page[4096] __attribute__((aligned(4096)));
  char log[512] = "";
  struct sched_param sp;
  cpu_set_t cpus;
  void *m;
  int r;
  errno = 0;
  r = mlock(page, sizeof page);
  probe_note(log, sizeof log, "mlock", r == 0, errno);
  r = munlock(page, sizeof page);
  probe_note(log, sizeof log, "munlock", r == 0, errno);
  r = mlockall(MCL_CURRENT);
  probe_note(log, sizeof log, "mlockall", r == 0, errno);
  m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  probe_note(log, sizeof log, "populate", m != MAP_FAILED, errno);
  errno = 0;
  if (m != MAP_FAILED) munmap(m, 1 << 20);
  r = sched_getscheduler(0);
  probe_note(log, sizeof log, "getscheduler", r >= 0, errno);
  r = sched_getparam(0, &sp);
  probe_note(log, sizeof log, "getparam", r == 0, errno);
  r = sched_getparam(1, &sp);
  probe_note(log, sizeof log, "getparam(1)", r == 0, errno);
  CPU_ZERO(&cpus);
  r = sched_getaffinity(0, sizeof cpus, &cpus);
  probe_note(log, sizeof log, "getaffinity", r == 0, errno);
  r = sched_getaffinity(1, sizeof cpus, &cpus);
  probe_note(log, sizeof log, "getaffinity(1)", r == 0, errno);
  errno = 0;
  r = getpriority(PRIO_PROCESS, 0);
  probe_note(log, sizeof log, "getpriority", errno == 0, errno);
  r = setpriority(PRIO_PROCESS, 0, 5);
  probe_note(log, sizeof log, "setpriority", r == 0, errno);
  r = setpriority(PRIO_PROCESS, 1, 5);
  probe_note(log, sizeof log, "setpriority(1)", r == 0, errno);
  return put_str(host, out, log);
}

/* The locks a database library takes on a file it opened (path = input, opened read-only): a
 * POSIX read lock and its query, an OFD read lock, a shared flock; each "name:ok" or "name:ERRNO". */
static bh_status h_file_locks(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char path[MAX_PATH_BYTES + 1], log[256] = "";
  struct flock fl;
  int fd, r;
  if (!copy_path(in, len, path)) return fail_str(host, out, BH_ERR_INVALID_INPUT, "Expected a path");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(host, out, "open", errno);
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_RDLCK;
  fl.l_whence = SEEK_SET;
  r = fcntl(fd, F_SETLK, &fl);
  probe_note(log, sizeof log, "setlk", r == 0, errno);
  fl.l_type = F_WRLCK;
  r = fcntl(fd, F_GETLK, &fl);
  probe_note(log, sizeof log, "getlk", r == 0, errno);
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_RDLCK;
  r = fcntl(fd, F_OFD_SETLK, &fl);
  probe_note(log, sizeof log, "ofd_setlk", r == 0, errno);
  r = flock(fd, LOCK_SH | LOCK_NB);
  probe_note(log, sizeof log, "flock", r == 0, errno);
  r = flock(fd, LOCK_UN);
  probe_note(log, sizeof log, "unlock", r == 0, errno);
  close(fd);
  return put_str(host, out, log);
}

/* dup(0) until it fails: "<count> <ERRNAME>"; the copies are closed again afterwards. */
static bh_status h_fd_bomb(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  static int fds[1 << 16];
  unsigned count = 0, i;
  char msg[48], name[16];
  int e = 0;
  while (count < sizeof fds / sizeof fds[0]) {
    int fd = dup(0);
    if (fd < 0) {
      e = errno;
      break;
    }
    fds[count++] = fd;
  }
  for (i = 0; i < count; i++) close(fds[i]);
  snprintf(msg, sizeof msg, "%u %s", count, errno_name(e, name));
  return put_str(host, out, msg);
}

/* Writes `want` bytes to fd in 64 KiB chunks, one per millisecond (so a watch on the count has
 * time to look), then closes it; returns the bytes written. */
static uint64_t paced_write(int fd, uint64_t want) {
  static const uint8_t chunk[64 * 1024];
  uint64_t done = 0;
  struct timespec ts = {0, 1000000};
  unsigned i;
  for (i = 0; done < want && i < (1u << 20); i++) {
    size_t n = want - done < sizeof chunk ? (size_t)(want - done) : sizeof chunk;
    ssize_t w = write(fd, chunk, n);
    if (w < 0 && errno != EINTR) break;
    if (w > 0) done += (uint64_t)w;
    nanosleep(&ts, NULL);
  }
  close(fd);
  return done;
}

/* "path:bytes", written at a pace: a budget on writes must be watched while the call runs. */
static bh_status h_write_paced(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char msg[48];
  uint64_t want;
  int fd = open_path_bytes(in, len, (uint64_t)1 << 32, &want);
  if (fd == -EINVAL) return fail_str(host, out, BH_ERR_INVALID_INPUT, "Expected path:bytes");
  if (fd < 0) return fail_errno(host, out, "open", -fd);
  snprintf(msg, sizeof msg, "wrote %llu", (unsigned long long)paced_write(fd, want));
  return put_str(host, out, msg);
}

/* Its main thread leaves (SYS_exit, not exit_group) while a second thread goes on writing at a
 * pace: the kernel then hides the process's write count (/proc/<pid>/io) from a host without
 * CAP_SYS_PTRACE, as it does for any process that has let go of its memory. "path:bytes". */
static void *write_after_leader(void *arg) {
  const struct write_job *job = arg;
  paced_write(job->fd, job->want);
  return NULL;
}

static bh_status h_leader_exit_write(const bh_host *host, const uint8_t *in, size_t len,
                                     bh_output *out) {
  static struct write_job job;
  bh_status st = start_write_thread(host, in, len, (uint64_t)1 << 32, &job, write_after_leader, out);
  if (st != BH_OK) return st;
  syscall(SYS_exit, 0);
  return fail_str(host, out, BH_ERR_FAILED, "SYS_exit returned");
}

/* A stopped worker burns no CPU: only a wall-clock deadline ends this call. */
static bh_status h_stop_self(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  raise(SIGSTOP);
  return put_str(host, out, "resumed");
}

static const bh_function functions[] = {
  {"echo", h_echo},
  {"segfault", h_segfault},
  {"abort", h_abort},
  {"spin", h_spin},
  {"sleep_ms", h_sleep_ms},
  {"deadline_aware", h_deadline_aware},
  {"error", h_error},
  {"read_file", h_read_file},
  {"write_file", h_write_file},
  {"connect_tcp", h_connect_tcp},
  {"execve", h_execve},
  {"fork", h_fork},
  {"thread", h_thread},
  {"signal_pid", h_signal_pid},
  {"signal_parent", h_signal_parent},
  {"ptrace_parent", h_ptrace_parent},
  {"int80", h_int80},
  {"x32", h_x32},
  {"exit_now", h_exit_now},
  {"exit_atexit", h_exit_atexit},
  {"raise_sigsys", h_raise_sigsys},
  {"big_output", h_big_output},
  {"log_flood", h_log_flood},
  {"corrupt_ring", h_corrupt_ring},
  {"touch_fd", h_touch_fd},
  {"scan_fds", h_scan_fds},
  {"getenv_dump", h_getenv_dump},
  {"self_status", h_self_status},
  {"crash_deep", h_crash_deep},
  {"stack_overflow", h_stack_overflow},
  {"write_big", h_write_big},
  {"cpu_burn", h_cpu_burn},
  {"cpu_burn_logging", h_cpu_burn_logging},
  {"cpu_burn_thread", h_cpu_burn_thread},
  {"bg_burn", h_bg_burn},
  {"bg_write", h_bg_write},
  {"exit_soon", h_exit_soon},
  {"alloc_bomb", h_alloc_bomb},
  {"fork_bomb", h_fork_bomb},
  {"thread_bomb", h_thread_bomb},
  {"thread_storm", h_thread_storm},
  {"thread_chain", h_thread_chain},
  {"harmless_probes", h_harmless_probes},
  {"file_locks", h_file_locks},
  {"fd_bomb", h_fd_bomb},
  {"stop_self", h_stop_self},
  {"write_paced", h_write_paced},
  {"leader_exit_write", h_leader_exit_write},
  {"fs_ops", h_fs_ops},
  {"log_flood_raw", h_log_flood_raw},
  {"log_line", h_log_line},
  {"forged_crash", h_forged_crash},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "hostile",
  "1.0.0",
  NULL,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }

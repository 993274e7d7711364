/*
 * boundary.c: test fixture that attacks the template boundary from every phase plugin code runs in:
 * its ELF constructor (the attack named in `selector`, which a test patches in a copy of this
 * file's bytes), init() (the attack named by the config) and a call ("attack", named by the input).
 * Attacks that do not end the process leave their outcome in "result".
 *
 * The suite runs as root, so each attack stays harmless if it escaped: signals other than to itself
 * go only to a canary pid the test made (SIGTERM to a `sleep`), no child it could make outlives 20 s,
 * nothing is written to any file, and every loop is bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead_plugin.h"
#include "errno_name.h"

#define SELECTOR_PREFIX "BH-BOUNDARY-ATTACK:"
#define CONTROL_FD 3 /* the template's control socket (cpp/zygote/plugin_process.h) */
#define CLONE_PARENT_ 0x00008000UL
#define CLONE_PIDFD_ 0x00001000UL

/* Patched by tests: SELECTOR_PREFIX, then "name" or "name:argument", NUL-padded. */
__attribute__((used)) static char selector[128] = SELECTOR_PREFIX "none";
static char result[512] = "no attack ran";

/* The control protocol's header (cpp/common/wire.h), as a hostile template would forge it. */
struct wire_header {
  uint32_t type, id, a, b;
  uint64_t c;
  uint32_t payload_len, reserved;
};

static void say_rc(const char *fmt, const char *what, long rc, int e) {
  char name[16];
  snprintf(result, sizeof result, fmt, what, rc < 0 ? errno_name(e, name) : "ok");
}

/* Records what `call` did; errno is read after it (argument evaluation order is unspecified). */
#define say(fmt, what, call)  \
  do {                        \
    long rc_ = (long)(call);  \
    int e_ = errno;           \
    say_rc(fmt, what, rc_, e_); \
  } while (0)

static int send_wire(uint32_t type, uint32_t a, const void *payload, uint32_t len, int fd) {
  struct wire_header h = {type, 0, a, 0, 0, len, 0};
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)payload, len}};
  struct msghdr m = {0};
  char control[CMSG_SPACE(sizeof(int))];
  m.msg_iov = iov;
  m.msg_iovlen = len ? 2 : 1;
  if (fd >= 0) {
    struct cmsghdr *cm;
    memset(control, 0, sizeof control);
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  return (int)sendmsg(CONTROL_FD, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static volatile sig_atomic_t self_signals;
static void count_signal(int sig) { (void)sig; self_signals++; }

static void attack_stat(const char *path) {
  struct stat st;
  struct statx sx;
  char e1[16], e2[16], e3[16], e4[16];
  long a = syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_EMPTY_PATH);
  int ea = errno;
  long b = syscall(SYS_statx, AT_FDCWD, path, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
  int eb = errno;
  long c = stat(path, &st);
  int ec = errno;
  int fd = open(path, O_PATH | O_CLOEXEC);
  int ed = errno;
  if (fd >= 0) close(fd);
  snprintf(result, sizeof result, "fstatat:%s statx:%s stat:%s opath:%s",
           a < 0 ? errno_name(ea, e1) : "ok", b < 0 ? errno_name(eb, e2) : "ok",
           c < 0 ? errno_name(ec, e3) : "ok", fd < 0 ? errno_name(ed, e4) : "ok");
}

/* fstat() and statx() on a descriptor still work (glibc's fstat is fstatat(fd, "", AT_EMPTY_PATH)). */
static void attack_fstat(void) {
  int p[2];
  struct stat st;
  struct statx sx;
  long a, b;
  if (pipe2(p, O_CLOEXEC) != 0) {
    say("%s: %s", "pipe2", -1);
    return;
  }
  a = fstat(p[0], &st);
  b = syscall(SYS_statx, p[0], "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
  snprintf(result, sizeof result, "fstat:%s statx:%s",
           a == 0 && S_ISFIFO(st.st_mode) ? "fifo" : "wrong",
           b == 0 && S_ISFIFO(sx.stx_mode) && (sx.stx_mask & STATX_TYPE) ? "fifo" : "wrong");
  close(p[0]);
  close(p[1]);
}

static void run_attack(const char *spec) {
  char name[64];
  const char *arg = strchr(spec, ':');
  size_t n = arg ? (size_t)(arg - spec) : strlen(spec);
  long target = arg ? strtol(arg + 1, NULL, 10) : 0;
  if (n >= sizeof name) n = sizeof name - 1;
  memcpy(name, spec, n);
  name[n] = '\0';
  if (arg) arg++;

  snprintf(result, sizeof result, "no attack ran");
  if (strcmp(name, "none") == 0) return;
  if (strcmp(name, "clone_parent") == 0) {
    /* A worker's exact clone, with no spawn request open: nobody would supervise this child. */
    int pidfd = -1;
    long pid = syscall(SYS_clone, CLONE_PARENT_ | CLONE_PIDFD_ | SIGCHLD, 0, &pidfd, 0, 0);
    if (pid == 0) {
      struct timespec t = {20, 0};
      nanosleep(&t, NULL);
      _exit(0);
    }
    say("%s: %s", "clone", pid);
  } else if (strcmp(name, "fork") == 0) {
    long pid = fork();
    if (pid == 0) _exit(0);
    say("%s: %s", "fork", pid);
  } else if (strcmp(name, "flood") == 0) {
    /* Junk on the control socket, far more than any bound. */
    int sent = 0;
    for (int i = 0; i < 100000; i++) {
      if (send_wire(99, (uint32_t)i, "junk", 4, -1) < 0) break;
      sent++;
    }
    snprintf(result, sizeof result, "flood: sent %d", sent);
  } else if (strcmp(name, "fake_loaded") == 0) {
    static const char table[] = "boundary\0" "6.6.6\0" "evil\0";
    long rc = send_wire(10, 0, table, sizeof table - 1, -1);
    say("%s: %s", "sendmsg", rc);
    if (rc >= 0 && arg && strcmp(arg, "hang") == 0) {  /* and never get to the real "loaded" */
      struct timespec t = {20, 0};
      nanosleep(&t, NULL);
    }
  } else if (strcmp(name, "fake_spawn") == 0) {
    /* Claim to be loaded, wait for the host's spawn request, answer it with a pipe, not a pidfd. */
    static const char table[] = "boundary\0" "1.0.0\0" "attack\0" "result\0";
    int p[2];
    char buf[256];
    struct wire_header h;
    if (send_wire(10, 0, table, sizeof table - 1, -1) < 0 || pipe2(p, O_CLOEXEC) != 0) {
      say("%s: %s", "setup", -1);
      return;
    }
    for (int i = 0; i < 100; i++) {
      struct iovec iov = {buf, sizeof buf};
      struct msghdr m = {0};
      char control[CMSG_SPACE(4 * sizeof(int))];
      struct timespec t = {0, 20 * 1000 * 1000};
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      if (recvmsg(CONTROL_FD, &m, MSG_DONTWAIT) >= (ssize_t)sizeof h) {
        memcpy(&h, buf, sizeof h);
        if (h.type == 2) {
          long rc = send_wire(12, h.a, NULL, 0, p[0]);
          say("%s: %s", "answered", rc);
          return;
        }
      }
      nanosleep(&t, NULL);
    }
    snprintf(result, sizeof result, "no spawn request came");
  } else if (strcmp(name, "kill_other") == 0) {
    say("%s: %s", "kill", kill((pid_t)target, SIGTERM));
  } else if (strcmp(name, "tgkill_other") == 0) {
    say("%s: %s", "tgkill", syscall(SYS_tgkill, target, target, SIGTERM));
  } else if (strcmp(name, "sigqueue_other") == 0) {
    union sigval v = {0};
    say("%s: %s", "sigqueue", sigqueue((pid_t)target, SIGTERM, v));
  } else if (strcmp(name, "kill_group") == 0) {
    say("%s: %s", "kill", kill(0, 0));
  } else if (strcmp(name, "kill_smuggled") == 0) {
    /* Our own pid in the low half, garbage above: the kernel would truncate it to ourselves. */
    say("%s: %s", "kill", syscall(SYS_kill, (long)getpid() | (1L << 32), 0));
  } else if (strcmp(name, "self_signals") == 0) {
    union sigval v = {0};
    signal(SIGUSR1, count_signal);
    signal(SIGUSR2, count_signal);
    self_signals = 0;
    raise(SIGUSR1);
    kill(getpid(), SIGUSR2);
    sigqueue(getpid(), SIGUSR1, v);
    snprintf(result, sizeof result, "self signals: %d", (int)self_signals);
  } else if (strcmp(name, "raw") == 0 && arg) {
    /* raw:nr,a0,...,a5: one syscall as the catalogue names it; pointers are 0, so a call that got
     * through would fail with EFAULT rather than act. */
    unsigned long long v[7] = {0};
    const char *p = arg;
    for (int i = 0; i < 7 && *p; i++) {
      char *end;
      v[i] = strtoull(p, &end, 0);
      p = *end == ',' ? end + 1 : end;
    }
    say("%s: %s", "raw", syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
  } else if (strcmp(name, "signal_loop") == 0) {
    /* What a monitored call costs: kill(self, 0) goes through the monitor, getppid does not. */
    struct timespec t0, t1, t2;
    long n = target > 0 && target <= 1000000 ? target : 1000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) syscall(SYS_kill, getpid(), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    snprintf(result, sizeof result, "kill_ns=%.0f getppid_ns=%.0f",
             ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n,
             ((t2.tv_sec - t1.tv_sec) * 1e9 + (t2.tv_nsec - t1.tv_nsec)) / n);
  } else if (strcmp(name, "signal_flood") == 0) {
    /* Keeps the monitor busy for `target` ms (at most 10 s). */
    struct timespec t0, now;
    long count = 0, ms = target > 0 && target <= 10000 ? target : 100;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
      for (int i = 0; i < 64; i++, count++) syscall(SYS_kill, getpid(), 0);
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    snprintf(result, sizeof result, "flooded %ld", count);
  } else if (strcmp(name, "rwx_file") == 0) {
    /* A private writable+executable copy of a file's pages (fd 4 is the plugin memfd while
     * loading): new code that every worker would inherit. */
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, 4, 0);
    say("%s: %s", "mmap", m == MAP_FAILED ? -1 : 0);
  } else if (strcmp(name, "mprotect_exec") == 0) {
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("%s: %s", "mprotect", m == MAP_FAILED ? -1 : mprotect(m, 4096, PROT_READ | PROT_EXEC));
  } else if (strcmp(name, "altstack_none") == 0) {
    /* An alternate signal stack no signal can be delivered on, then a forbidden call: a design
     * that reports violations by a signal in the process would lose this one. */
    stack_t ss = {0};
    struct sigaction sa = {0};
    ss.ss_sp = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ss.ss_size = 65536;
    sigaltstack(&ss, NULL);
    sa.sa_handler = count_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    say("%s: %s", "socket", socket(AF_INET, SOCK_STREAM, 0));
  } else if (strcmp(name, "stat") == 0) {
    attack_stat(arg ? arg : "/");
  } else if (strcmp(name, "fstat") == 0) {
    attack_fstat();
  } else if (strcmp(name, "reserve_all") == 0) {
    /* Reserves every byte of address space its limit allows (PROT_NONE costs no memory), so a
     * process forked from it has no room left to map anything, its ring included. Bounded: the
     * chunk halves on each refusal, so at most 12 refusals and 1 << 20 mappings. */
    size_t chunk = (size_t)64 << 20, total = 0;
    for (int i = 0; i < (1 << 20) && chunk >= 4096; i++) {
      if (mmap(NULL, chunk, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED) chunk /= 2;
      else total += chunk;
    }
    snprintf(result, sizeof result, "reserved %zu MiB", total >> 20);
  } else {
    snprintf(result, sizeof result, "unknown attack %s", name);
  }
}

__attribute__((constructor)) static void boundary_ctor(void) {
  run_attack(selector + sizeof SELECTOR_PREFIX - 1);
}

static bh_status put_result(const bh_host *host, bh_output *out) {
  bh_status st;
  size_t n = strlen(result);
  uint8_t *p = host->output_alloc(out, n, &st);
  if (p == NULL) return st;
  memcpy(p, result, n);
  return BH_OK;
}

static bh_status boundary_init(const bh_host *host, const uint8_t *config, size_t config_len,
                               bh_output *out) {
  char spec[256];
  (void)host;
  (void)out;
  if (config_len == 0) return BH_OK;
  if (config_len >= sizeof spec) return BH_ERR_INVALID_INPUT;
  memcpy(spec, config, config_len);
  spec[config_len] = '\0';
  run_attack(spec);
  return BH_OK;
}

static bh_status attack(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  char spec[256];
  if (len >= sizeof spec) return BH_ERR_INVALID_INPUT;
  memcpy(spec, in, len);
  spec[len] = '\0';
  run_attack(spec);
  return put_result(host, out);
}

static bh_status get_result(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  (void)in;
  (void)len;
  return put_result(host, out);
}

static const bh_function functions[] = {
  {"attack", attack},
  {"result", get_result},
};

static const bh_plugin plugin = {
  BH_ABI_VERSION,
  sizeof(bh_plugin),
  "boundary",
  "1.0.0",
  boundary_init,
  NULL,
  sizeof functions / sizeof functions[0],
  functions,
};

BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }

/* rogue_template.c: test fixture for a template that takes over its control socket (fd 3) from
 * init(), as a hostile plugin can, and behaves according to the config string. Every loop and
 * every child is bounded (at most 20 s). Harmless: no signals to anyone else, no files written.
 *
 *   "freeze"  : announce "loaded" itself, then never read fd 3 again (for 20 s): the monitor must
 *               not block on a template that stops reading.
 *   "orphan"  : announce "loaded", serve spawn requests itself: the clone the monitor lets through
 *               runs plugin code that never sets PR_SET_PDEATHSIG and never serves, names itself
 *               bhrt_orphan and lives 20 s.
 *   "wx"      : like orphan, but first maps the spawn's region memfd twice (RX and RW, MAP_SHARED)
 *               to write code through one view and run it through the other; the child does it
 *               again after the clone and exits with 42 when both worked (43 otherwise).
 *   "tviol"   : (policy threads >= 1) a thread of the template makes a forbidden call (socket)
 *               300 ms after init returned: a violation of the template after its load.
 *   "errno"   : installs its own stacked seccomp filter answering socket() with EPERM, then calls
 *               socket(): a plugin may tighten its own sandbox, and a call it refuses itself never
 *               reaches the monitor.
 *
 * First written as a red-team fixture against the monitor; each mode is a regression test now.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead_plugin.h"

struct hdr { uint32_t type, id, a, b; uint64_t c; uint32_t payload_len, reserved; };
enum { T_SPAWN = 2, T_LOADED = 10, T_SPAWN_ERROR = 13, T_SPAWNED = 12 };
#define WORKER_CLONE_FLAGS (0x00008000UL | 0x00001000UL | 17UL)

static uint64_t now_ms(void) {
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int send_msg(uint32_t type, uint32_t a, uint32_t b, const void *p, size_t n, int fd) {
  struct hdr h = {type, 0, a, b, 0, (uint32_t)n, 0};
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)p, n}};
  struct msghdr m = {0};
  char ctl[CMSG_SPACE(sizeof(int))];
  m.msg_iov = iov; m.msg_iovlen = n ? 2 : 1;
  if (fd >= 0) {
    memset(ctl, 0, sizeof ctl);
    m.msg_control = ctl; m.msg_controllen = sizeof ctl;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return (int)sendmsg(3, &m, MSG_NOSIGNAL);
}

/* Receives one message from fd 3 (waits at most `ms`); returns type or -1. */
static int recv_msg(struct hdr *h, int fds[4], int *nfds, int ms) {
  struct pollfd p = {3, POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return -1;
  char buf[65536];
  struct iovec iov[2] = {{h, sizeof *h}, {buf, sizeof buf}};
  char ctl[CMSG_SPACE(sizeof(int) * 4) + 64];
  struct msghdr m = {0};
  m.msg_iov = iov; m.msg_iovlen = 2; m.msg_control = ctl; m.msg_controllen = sizeof ctl;
  ssize_t n = recvmsg(3, &m, MSG_DONTWAIT);
  if (n <= 0) return n == 0 ? -2 : -1;
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && *nfds < 4; i++) memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  return (int)h->type;
}

static void announce_loaded(void) {
  static const char desc[] = "rt_template\0" "1.0\0" "noop\0";
  send_msg(T_LOADED, (uint32_t)getpid(), 0, desc, sizeof desc - 1, -1);
}

/* x86-64: mov eax, imm32; ret */
static int jit_run(uint8_t *rw, uint8_t *rx, uint32_t value) {
#if defined(__x86_64__)
  rw[0] = 0xb8; memcpy(rw + 1, &value, 4); rw[5] = 0xc3;
  __builtin___clear_cache((char *)rx, (char *)rx + 6);
  return ((uint32_t (*)(void))rx)() == value;
#else
  (void)rw; (void)rx; (void)value; return 0;
#endif
}

static void child_life(int exit_code, long life_ms) {
  prctl(PR_SET_NAME, "bhrt_orphan", 0, 0, 0);
  uint64_t end = now_ms() + (uint64_t)life_ms;
  while (now_ms() < end) sleep_ms(100);
  syscall(SYS_exit_group, exit_code);
}

/* Serves spawn requests itself for at most 20 s. */
static void own_spawn_loop(int wx) {
  uint64_t end = now_ms() + 20000;
  uint8_t *rw = NULL, *rx = NULL;
  int wx_ok = 0;
  while (now_ms() < end) {
    struct hdr h; int fds[4], n = 0;
    int t = recv_msg(&h, fds, &n, 200);
    if (t == -2) break;
    if (t != T_SPAWN || n != 2) { for (int i = 0; i < n; i++) close(fds[i]); continue; }
    if (wx && rw == NULL) {
      rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fds[0], 0);
      rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
      if (rx != MAP_FAILED && rw != MAP_FAILED) wx_ok = jit_run(rw, rx, 0x1234);
    }
    int pidfd = -1;
    long pid = syscall(SYS_clone, WORKER_CLONE_FLAGS, 0, &pidfd, 0, 0);
    if (pid == 0) {
      if (wx) {
        int ok = wx_ok && jit_run(rw, rx, 0x5678);  /* new code written after the clone */
        sleep_ms(500);
        syscall(SYS_exit_group, ok ? 42 : 43);
      }
      child_life(0, 20000);
    }
    if (pid < 0) send_msg(T_SPAWN_ERROR, h.a, (uint32_t)errno, NULL, 0, -1);
    else { send_msg(T_SPAWNED, h.a, 0, NULL, 0, pidfd); close(pidfd); }
    close(fds[0]); close(fds[1]);
  }
  syscall(SYS_exit_group, 0);
}

static void *tviol_thread(void *arg) {
  (void)arg;
  sleep_ms(300);
  syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);  /* forbidden: the monitor kills the template */
  return NULL;
}

static int errno_filter_socket(void) {
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static char g_errno_result[64] = "not run";

static bh_status init(const bh_host *host, const uint8_t *cfg, size_t len, bh_output *out) {
  (void)host;
  if (len == 6 && memcmp(cfg, "freeze", 6) == 0) {
    announce_loaded();
    uint64_t end = now_ms() + 20000;
    while (now_ms() < end) sleep_ms(100);  /* never reads fd 3 */
    syscall(SYS_exit_group, 0);
  }
  if (len == 6 && memcmp(cfg, "orphan", 6) == 0) { announce_loaded(); own_spawn_loop(0); }
  if (len == 2 && memcmp(cfg, "wx", 2) == 0) { announce_loaded(); own_spawn_loop(1); }
  if (len == 5 && memcmp(cfg, "tviol", 5) == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, tviol_thread, NULL) != 0) {
      host->set_error(out, "pthread_create failed", 21);
      return BH_ERR_FAILED;
    }
    pthread_detach(t);
  }
  if (len == 5 && memcmp(cfg, "errno", 5) == 0) {
    int rc = errno_filter_socket();
    long s = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    int e = errno;
    /* report through the load error: the template is alive and answers */
    int k = 0;
    const char *pre = "filter=";
    for (const char *p = pre; *p; p++) g_errno_result[k++] = *p;
    g_errno_result[k++] = rc == 0 ? '0' : 'x';
    const char *mid = " socket=";
    for (const char *p = mid; *p; p++) g_errno_result[k++] = *p;
    g_errno_result[k++] = s < 0 ? '-' : '+';
    g_errno_result[k++] = ' ';
    g_errno_result[k++] = e == EPERM ? 'P' : '?';
    g_errno_result[k] = 0;
    host->set_error(out, g_errno_result, (size_t)k);
    return BH_ERR_FAILED;
  }
  return BH_OK;
}

static bh_status noop(const bh_host *host, const uint8_t *in, size_t len, bh_output *out) {
  (void)host; (void)in; (void)len; (void)out;
  return BH_OK;
}

static const bh_function functions[] = {{"noop", noop}};
static const bh_plugin plugin = {BH_ABI_VERSION, sizeof(bh_plugin), "rt_template", "1.0",
                                 init, NULL, 1, functions};
BH_PLUGIN_EXPORT const bh_plugin *bulkhead_plugin_v1(void) { return &plugin; }

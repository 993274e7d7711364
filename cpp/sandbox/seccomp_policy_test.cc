// seccomp_policy_test.cc: what each compiled policy does with each syscall, as a table of
// (policies, syscall, arguments) -> action run through the BPF evaluator. One row per line, so a
// policy change shows up as edited rows. Built for the compile target's arch (x86-64 natively,
// arm64 under qemu-aarch64: the policy uses that target's __NR_* numbers).
#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>
#include <string>
#include <vector>

#include "sandbox/bpf_evaluator.h"
#include "sandbox/bpf_program.h"

namespace bulkhead {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
constexpr uint32_t kForeignArch = AUDIT_ARCH_AARCH64;
#elif defined(__aarch64__)
constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
constexpr uint32_t kForeignArch = AUDIT_ARCH_X86_64;
#endif

constexpr uint64_t kSelf = 4242;
constexpr int kTemplateSock = 7;
constexpr uint64_t kHi = 1ull << 32;  // a smuggled upper-half bit in an int argument

// The eight compiled policies, one bit each: phase x threads grant x file_writes grant.
enum : uint8_t {
  L = 1 << 0, LT = 1 << 1, LW = 1 << 2, LTW = 1 << 3,
  R = 1 << 4, RT = 1 << 5, RW = 1 << 6, RTW = 1 << 7,
};
constexpr uint8_t kAny = 0xff;
constexpr uint8_t kLoad = L | LT | LW | LTW;
constexpr uint8_t kRun = R | RT | RW | RTW;
constexpr uint8_t kThreads = LT | LTW | RT | RTW;
constexpr uint8_t kNoThreads = kAny & ~kThreads;
constexpr uint8_t kWrites = LW | LTW | RW | RTW;
constexpr uint8_t kNoWrites = kAny & ~kWrites;

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kTrap = SECCOMP_RET_TRAP;
constexpr uint32_t kNotif = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr uint32_t Err(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

struct Row {
  const char* what;
  uint8_t policies;
  uint32_t nr;
  std::array<uint64_t, 6> args;
  uint32_t expect;
  uint32_t arch = kArch;
};

constexpr uint64_t kRw = PROT_READ | PROT_WRITE;
constexpr uint64_t kAnon = MAP_PRIVATE | MAP_ANONYMOUS;
constexpr uint64_t kMinus2 = static_cast<uint64_t>(-2);  // a negative clock id: another process's CPU clock
constexpr uint64_t kFdCwd = static_cast<uint64_t>(AT_FDCWD);

// Expectations against the current policy (cpp/sandbox/seccomp_policy.cc). Edit rows by hand
// when the policy changes; a row may be repeated with disjoint policy sets.
const Row kRows[] = {
    // Architecture and number-space checks come before any rule: the monitor hears of them.
    {"getpid on a foreign arch", kAny, __NR_getpid, {}, kNotif, kForeignArch},
#if defined(__x86_64__)
    {"i386 getpid (int 0x80) on x86-64", kAny, 20, {}, kNotif, AUDIT_ARCH_I386},
    {"x32 getpid", kAny, 0x40000000u | __NR_getpid, {}, kNotif},
    {"x32 read", kAny, 0x40000000u | __NR_read, {}, kNotif},
#endif
    {"the stat emulation's die sentinel", kAny, kDieSyscall, {}, kKill},
    {"an unknown number", kAny, 5000, {}, kNotif},
    {"number -1", kAny, 0xffffffffu, {}, kNotif},
    // Plain allowances.
    {"read", kAny, __NR_read, {3, 0, 16}, kAllow},
    {"write", kAny, __NR_write, {2, 0, 16}, kAllow},
    {"getpid", kAny, __NR_getpid, {}, kAllow},
    {"exit_group", kAny, __NR_exit_group, {0}, kAllow},
    {"landlock_restrict_self", kAny, __NR_landlock_restrict_self, {3, 0}, kAllow},
    // Memory: W^X. Read-only executable file mappings go to the monitor (allowed while loading).
    {"mmap anonymous rw", kAny, __NR_mmap, {0, 4096, kRw, kAnon, ~0ull, 0}, kAllow},
    {"mmap anonymous exec", kAny, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, kAnon, 0, 0}, kNotif},
    {"mmap file rwx private", kAny, __NR_mmap, {0, 4096, kRw | PROT_EXEC, MAP_PRIVATE, 3, 0}, kNotif},
    {"mmap file exec (loading: the monitor decides)", kLoad, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 3, 0}, kNotif},
    {"mmap file exec in a worker", kRun, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, 3, 0}, Err(EPERM)},
    {"mmap file exec shared in a worker", kRun, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, 3, 0}, Err(EPERM)},
    {"mmap MAP_HUGETLB", kAny, __NR_mmap, {0, 4096, kRw, kAnon | MAP_HUGETLB, 0, 0}, kNotif},
    {"mmap MAP_POPULATE (fails softly)", kLoad, __NR_mmap, {0, 4096, kRw, kAnon | MAP_POPULATE, 0, 0}, Err(EPERM)},
    {"mmap MAP_POPULATE exec (the monitor refuses it)", kLoad, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_POPULATE, 3, 0}, kNotif},
    {"mmap MAP_POPULATE exec in a worker", kRun, __NR_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_POPULATE, 3, 0}, Err(EPERM)},
    {"mlock (fails as RLIMIT_MEMLOCK would)", kAny, __NR_mlock, {0, 4096}, Err(EPERM)},
    {"mlock2", kAny, __NR_mlock2, {0, 4096, 0}, Err(EPERM)},
    {"mlockall", kAny, __NR_mlockall, {MCL_CURRENT}, Err(EPERM)},
    {"munlock", kAny, __NR_munlock, {0, 4096}, kAllow},
    {"munlockall", kAny, __NR_munlockall, {}, kAllow},
    // Scheduling: the calling thread only; any other target fails softly.
    {"sched_getscheduler self", kAny, __NR_sched_getscheduler, {0}, kAllow},
    {"sched_getscheduler other", kAny, __NR_sched_getscheduler, {1}, Err(EPERM)},
    {"sched_getparam self", kAny, __NR_sched_getparam, {0, 0}, kAllow},
    {"sched_setaffinity (REDTEAM #34)", kLoad, __NR_sched_setaffinity, {0, 8, 0}, kNotif},
    {"sched_setscheduler self SCHED_BATCH", kAny, __NR_sched_setscheduler, {0, SCHED_BATCH, 0}, kAllow},
    {"sched_setscheduler self SCHED_FIFO (real-time)", kLoad, __NR_sched_setscheduler, {0, SCHED_FIFO, 0}, Err(EPERM)},
    {"sched_setscheduler self SCHED_DEADLINE", kLoad, __NR_sched_setscheduler, {0, 6, 0}, Err(EPERM)},
    {"sched_get_priority_max", kAny, __NR_sched_get_priority_max, {0}, kAllow},
    {"getpriority self", kAny, __NR_getpriority, {PRIO_PROCESS, 0}, kAllow},
    {"getpriority of a group", kAny, __NR_getpriority, {PRIO_PGRP, 0}, Err(EPERM)},
    {"setpriority self", kAny, __NR_setpriority, {PRIO_PROCESS, 0, 10}, kAllow},
    {"setpriority other", kAny, __NR_setpriority, {PRIO_PROCESS, 1, 10}, Err(EPERM)},
    {"mprotect read", kAny, __NR_mprotect, {0, 4096, PROT_READ}, kAllow},
    {"mprotect exec (JIT)", kAny, __NR_mprotect, {0, 4096, PROT_READ | PROT_EXEC}, kNotif},
    {"mprotect PROT_GROWSDOWN", kAny, __NR_mprotect, {0, 4096, PROT_READ | PROT_GROWSDOWN}, kNotif},
    {"madvise DONTNEED", kAny, __NR_madvise, {0, 4096, MADV_DONTNEED}, kAllow},
    {"madvise HWPOISON", kAny, __NR_madvise, {0, 4096, MADV_HWPOISON}, Err(EPERM)},
    {"madvise DONTNEED|hi bit", kAny, __NR_madvise, {0, 4096, MADV_DONTNEED | kHi}, Err(EPERM)},
    // Files.
    {"openat read-only", kAny, __NR_openat, {3, 0, O_RDONLY | O_CLOEXEC}, kAllow},
    {"openat O_DIRECTORY (opendir)", kAny, __NR_openat, {3, 0, O_RDONLY | O_DIRECTORY}, kAllow},
    {"openat O_PATH (metadata Landlock does not check)", kAny, __NR_openat, {3, 0, O_PATH}, Err(EPERM)},
    {"openat write without a grant", kNoWrites, __NR_openat, {3, 0, O_WRONLY}, Err(EPERM)},
    {"openat O_CREAT without a grant", kNoWrites, __NR_openat, {3, 0, O_RDONLY | O_CREAT}, Err(EPERM)},
    {"openat write with a grant", kWrites, __NR_openat, {3, 0, O_WRONLY | O_CREAT | O_TRUNC}, kAllow},
    {"openat rdwr with a grant", kWrites, __NR_openat, {3, 0, O_RDWR | O_APPEND}, kAllow},
    {"openat O_PATH with a grant", kWrites, __NR_openat, {3, 0, O_PATH | O_WRONLY}, Err(EPERM)},
    {"openat O_RDONLY|O_TRUNC", kAny, __NR_openat, {3, 0, O_RDONLY | O_TRUNC}, Err(EPERM)},
    {"openat O_TMPFILE", kAny, __NR_openat, {3, 0, O_TMPFILE | O_RDWR}, Err(EPERM)},
    {"openat2 (flags in memory)", kAny, __NR_openat2, {3, 0, 0, 24}, Err(ENOSYS)},
    {"fstat (needs no path)", kAny, __NR_fstat, {3, 0}, kAllow},
    {"newfstatat AT_EMPTY_PATH (emulated)", kAny, __NR_newfstatat, {3, 0, 0, AT_EMPTY_PATH}, kTrap},
    {"path stat via newfstatat (emulated: EPERM)", kAny, __NR_newfstatat, {kFdCwd, 0, 0, 0}, kTrap},
    {"statx AT_EMPTY_PATH (emulated)", kAny, __NR_statx, {3, 0, AT_EMPTY_PATH, 0, 0}, kTrap},
    {"statx by path (emulated: EPERM)", kAny, __NR_statx, {kFdCwd, 0, 0, 0, 0}, kTrap},
    {"fcntl F_GETFD", kAny, __NR_fcntl, {3, F_GETFD}, kAllow},
    {"fcntl F_SETFL O_NONBLOCK", kAny, __NR_fcntl, {3, F_SETFL, O_NONBLOCK}, kAllow},
    {"fcntl F_SETFL O_ASYNC", kAny, __NR_fcntl, {3, F_SETFL, O_ASYNC}, kNotif},
    {"fcntl F_SETOWN", kAny, __NR_fcntl, {3, F_SETOWN, 1}, kNotif},
    {"fcntl F_SETLK (SQLite's locks)", kAny, __NR_fcntl, {3, F_SETLK, 0}, kAllow},
    {"fcntl F_SETLKW", kAny, __NR_fcntl, {3, F_SETLKW, 0}, kAllow},
    {"fcntl F_GETLK", kAny, __NR_fcntl, {3, F_GETLK, 0}, kAllow},
    {"fcntl F_OFD_SETLK", kAny, __NR_fcntl, {3, F_OFD_SETLK, 0}, kAllow},
    {"fcntl F_OFD_GETLK", kAny, __NR_fcntl, {3, F_OFD_GETLK, 0}, kAllow},
    {"fcntl F_SETLEASE (not a lock: a lease signals)", kAny, __NR_fcntl, {3, F_SETLEASE, 0}, kNotif},
    {"flock shared", kAny, __NR_flock, {3, LOCK_SH}, kAllow},
    {"flock shared, non-blocking", kAny, __NR_flock, {3, LOCK_SH | LOCK_NB}, kAllow},
    {"flock unlock", kAny, __NR_flock, {3, LOCK_UN}, kAllow},
    {"flock exclusive with a write grant", kLoad & (LW | LTW), __NR_flock, {3, LOCK_EX}, kAllow},
    {"flock exclusive without one (it ignores the open mode)", kLoad & (L | LT), __NR_flock, {3, LOCK_EX | LOCK_NB}, Err(EPERM)},
    {"fcntl F_GETFD|hi bit", kAny, __NR_fcntl, {3, F_GETFD | kHi}, kNotif},
    {"ioctl", kAny, __NR_ioctl, {0, 0x5401}, Err(ENOTTY)},
    {"getcwd", kAny, __NR_getcwd, {0, 0}, Err(EPERM)},
    {"memfd_create", kAny, __NR_memfd_create, {0, 0}, Err(EPERM)},
    {"mkdirat without a grant", kNoWrites, __NR_mkdirat, {3, 0, 0755}, Err(EPERM)},
    {"mkdirat with a grant", kWrites, __NR_mkdirat, {3, 0, 0755}, kAllow},
    {"unlinkat without a grant", kNoWrites, __NR_unlinkat, {3, 0, 0}, Err(EPERM)},
    {"unlinkat with a grant", kWrites, __NR_unlinkat, {3, 0, 0}, kAllow},
    {"ftruncate without a grant", kNoWrites, __NR_ftruncate, {3, 0}, Err(EPERM)},
    {"ftruncate with a grant", kWrites, __NR_ftruncate, {3, 0}, kAllow},
    {"renameat2 flags 0 with a grant", kWrites, __NR_renameat2, {3, 0, 3, 0, 0}, kAllow},
    {"renameat2 RENAME_EXCHANGE with a grant", kWrites, __NR_renameat2, {3, 0, 3, 0, 2}, Err(EPERM)},
    {"renameat2 without a grant", kNoWrites, __NR_renameat2, {3, 0, 3, 0, 0}, Err(EPERM)},
#if defined(__x86_64__)
    {"open read-only", kAny, __NR_open, {0, O_RDONLY}, kAllow},
    {"open O_PATH", kAny, __NR_open, {0, O_PATH}, Err(EPERM)},
    {"open write without a grant", kNoWrites, __NR_open, {0, O_WRONLY}, Err(EPERM)},
    {"stat", kAny, __NR_stat, {0, 0}, Err(EPERM)},
    {"unlink without a grant", kNoWrites, __NR_unlink, {0}, Err(EPERM)},
    {"unlink with a grant", kWrites, __NR_unlink, {0}, kAllow},
    {"fork", kAny, __NR_fork, {}, Err(EPERM)},
#endif
    // Process, signals, clocks.
    {"clock_gettime MONOTONIC", kAny, __NR_clock_gettime, {CLOCK_MONOTONIC, 0}, kAllow},
    {"clock_gettime of another process's CPU clock", kAny, __NR_clock_gettime, {kMinus2, 0}, kNotif},
    {"rt_sigaction SIGSEGV", kAny, __NR_rt_sigaction, {SIGSEGV, 0, 0, 8}, kAllow},
    {"rt_sigaction SIGSYS (replace the emulation)", kAny, __NR_rt_sigaction, {SIGSYS, 0, 0, 8}, kNotif},
    {"rt_sigaction SIGSYS|hi bit", kAny, __NR_rt_sigaction, {SIGSYS | kHi, 0, 0, 8}, kNotif},
    {"futex WAIT_PRIVATE", kAny, __NR_futex, {0, FUTEX_WAIT_PRIVATE}, kAllow},
    {"futex LOCK_PI", kAny, __NR_futex, {0, FUTEX_LOCK_PI}, Err(EPERM)},
    {"futex WAKE|hi bit", kAny, __NR_futex, {0, FUTEX_WAKE | kHi}, Err(EPERM)},
    {"getrandom", kAny, __NR_getrandom, {0, 16, 0}, kAllow},
    {"getrandom GRND_RANDOM", kAny, __NR_getrandom, {0, 16, GRND_RANDOM}, Err(EPERM)},
    {"prlimit64 self", kAny, __NR_prlimit64, {0, RLIMIT_NOFILE, 0, 0}, kAllow},
    {"prlimit64 another pid", kAny, __NR_prlimit64, {1234, RLIMIT_NOFILE, 0, 0}, kNotif},
    {"getrusage SELF", kAny, __NR_getrusage, {RUSAGE_SELF, 0}, kAllow},
    {"getrusage CHILDREN", kAny, __NR_getrusage, {static_cast<uint64_t>(RUSAGE_CHILDREN), 0}, Err(EPERM)},
    {"prctl PR_SET_NAME", kAny, __NR_prctl, {PR_SET_NAME, 0}, kAllow},
    {"prctl PR_SET_PTRACER", kAny, __NR_prctl, {PR_SET_PTRACER, 1}, Err(EPERM)},
    {"prctl PR_SET_DUMPABLE", kAny, __NR_prctl, {PR_SET_DUMPABLE, 1}, kNotif},
    {"prctl PR_SET_PDEATHSIG SIGTERM", kAny, __NR_prctl, {PR_SET_PDEATHSIG, SIGTERM}, kNotif},
    {"clone3 (flags in memory)", kAny, __NR_clone3, {0, 88}, Err(ENOSYS)},
    {"clone as fork", kAny, __NR_clone, {SIGCHLD}, Err(EPERM)},
    {"clone a worker (the monitor decides)", kAny, __NR_clone, {kWorkerCloneFlags, 0}, kNotif},
    {"clone a worker on a stack of its own", kAny, __NR_clone, {kWorkerCloneFlags, 0x10000}, Err(EPERM)},
    {"clone a thread with a grant (the monitor counts)", kThreads, __NR_clone, {kThreadCloneFlags}, kNotif},
    {"clone a thread without a grant", kNoThreads, __NR_clone, {kThreadCloneFlags}, Err(EPERM)},
    {"clone a thread|hi bit", kAny, __NR_clone, {kThreadCloneFlags | kHi}, Err(EPERM)},
    {"seccomp stacking a filter", kAny, __NR_seccomp, {SECCOMP_SET_MODE_FILTER, 0, 0}, kAllow},
    {"seccomp NEW_LISTENER", kAny, __NR_seccomp, {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0}, kNotif},
    {"seccomp strict mode", kAny, __NR_seccomp, {SECCOMP_SET_MODE_STRICT, 0, 0}, kNotif},
    // Signals: the monitor compares the target with the caller, in every phase.
    {"kill (the monitor decides)", kAny, __NR_kill, {kSelf, SIGABRT}, kNotif},
    {"tgkill (the monitor decides)", kAny, __NR_tgkill, {kSelf, kSelf, SIGABRT}, kNotif},
    {"rt_sigqueueinfo (the monitor decides)", kAny, __NR_rt_sigqueueinfo, {kSelf, SIGUSR1, 0}, kNotif},
    {"rt_tgsigqueueinfo (the monitor decides)", kAny, __NR_rt_tgsigqueueinfo, {kSelf, kSelf, SIGUSR1, 0}, kNotif},
    {"tkill (no process to compare)", kAny, __NR_tkill, {kSelf, SIGKILL}, kNotif},
    {"recvmsg on the template socket", kLoad, __NR_recvmsg, {kTemplateSock, 0, 0}, kAllow},
    {"recvmsg on another fd while loading", kLoad, __NR_recvmsg, {kTemplateSock + 1, 0, 0}, kNotif},
    {"recvmsg on the template socket|hi bit", kLoad, __NR_recvmsg, {kTemplateSock | kHi, 0, 0}, kNotif},
    {"recvmsg in a worker", kRun, __NR_recvmsg, {kTemplateSock, 0, 0}, Err(EPERM)},
    {"sendmsg on the template socket", kLoad, __NR_sendmsg, {kTemplateSock, 0, 0}, kAllow},
    {"sendmsg in a worker", kRun, __NR_sendmsg, {kTemplateSock, 0, 0}, Err(EPERM)},
    // Denied by default.
    {"socket", kAny, __NR_socket, {AF_INET, SOCK_STREAM, 0}, kNotif},
    {"execve", kAny, __NR_execve, {0, 0, 0}, kNotif},
    {"ptrace", kAny, __NR_ptrace, {0, 0, 0, 0}, kNotif},
    {"unshare", kAny, __NR_unshare, {CLONE_NEWUSER}, kNotif},
    {"setpgid (leaving the process group)", kAny, __NR_setpgid, {0, 0}, kNotif},
    {"setsid", kAny, __NR_setsid, {}, kNotif},
    {"process_vm_readv", kAny, __NR_process_vm_readv, {1, 0, 1, 0, 1, 0}, kNotif},
};

// What a process under each policy set meets: the boundary alone while loading; in a worker, the
// boundary and the worker's tightening layer together, combined as the kernel combines stacked
// filters (the most restrictive action wins; between equals, the newer filter's).
struct Compiled {
  uint8_t bit;
  const char* name;
  std::vector<std::vector<sock_filter>> programs;  // newest first
};

std::vector<sock_filter> Compile(SeccompPhase phase, bool threads, bool writes) {
  SeccompOptions o;
  o.phase = phase;
  o.threads = threads;
  o.file_writes = writes;
  o.template_sock_fd = kTemplateSock;
  std::vector<sock_filter> program;
  EXPECT_TRUE(CompileSeccomp(o, &program));
  return program;
}

std::vector<Compiled> CompileAll() {
  std::vector<Compiled> out;
  const char* names[] = {"load", "load+threads", "load+writes", "load+threads+writes",
                         "run",  "run+threads",  "run+writes",  "run+threads+writes"};
  const std::vector<sock_filter> run = Compile(SeccompPhase::kRun, false, false);
  for (int i = 0; i < 8; i++) {
    Compiled c{static_cast<uint8_t>(1u << i), names[i], {}};
    if (i >= 4) c.programs.push_back(run);
    c.programs.push_back(Compile(SeccompPhase::kLoad, (i & 1) != 0, (i & 2) != 0));
    out.push_back(std::move(c));
  }
  return out;
}

// The kernel's ranking (seccomp_run_filters): lower ACTION_ONLY as a signed value wins.
int32_t Rank(uint32_t action) { return static_cast<int32_t>(action & SECCOMP_RET_ACTION_FULL); }

bool Evaluate(const Compiled& c, const seccomp_data& d, uint32_t* action, std::string* error) {
  bool first = true;
  for (const auto& program : c.programs) {
    uint32_t a = 0;
    if (!EvaluateBpf(program.data(), program.size(), d, &a, error)) return false;
    if (first || Rank(a) < Rank(*action)) *action = a;
    first = false;
  }
  return true;
}

std::string ActionName(uint32_t a) {
  switch (a & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW: return "ALLOW";
    case SECCOMP_RET_TRAP: return "TRAP";
    case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
    case SECCOMP_RET_USER_NOTIF: return "USER_NOTIF";
    case SECCOMP_RET_ERRNO: return "ERRNO(" + std::to_string(a & SECCOMP_RET_DATA) + ")";
    default: return "0x" + std::to_string(a);
  }
}

TEST(SeccompPolicy, EveryPolicyCompilesWithinTheKernelLimit) {
  for (const Compiled& c : CompileAll()) {
    for (const auto& program : c.programs) {
      EXPECT_GT(program.size(), 8u) << c.name;
      EXPECT_LE(program.size(), static_cast<size_t>(BPF_MAXINSNS)) << c.name;
    }
  }
}

TEST(SeccompPolicy, TableOfSyscallsGetsTheExpectedAction) {
  const std::vector<Compiled> policies = CompileAll();
  int checked = 0;
  for (const Row& row : kRows) {
    for (const Compiled& c : policies) {
      if ((row.policies & c.bit) == 0) continue;
      seccomp_data d{};
      d.nr = static_cast<int>(row.nr);
      d.arch = row.arch;
      for (int i = 0; i < 6; i++) d.args[i] = row.args[i];
      uint32_t action = 0;
      std::string error;
      ASSERT_TRUE(Evaluate(c, d, &action, &error)) << c.name << ": " << error;
      EXPECT_EQ(ActionName(action), ActionName(row.expect)) << row.what << " under " << c.name;
      checked++;
    }
  }
  EXPECT_GT(checked, 8 * 50);
}

// Every path through every program is well formed: sweep the whole number space near real
// syscalls with zero and all-ones arguments, and every number must get some action, no fault.
TEST(SeccompPolicy, NoSyscallNumberMakesTheProgramFault) {
  for (const Compiled& c : CompileAll()) {
    for (uint32_t nr = 0; nr < 1024; nr++) {
      for (uint64_t arg : {0ull, ~0ull}) {
        seccomp_data d{};
        d.nr = static_cast<int>(nr);
        d.arch = kArch;
        for (auto& a : d.args) a = arg;
        uint32_t action;
        std::string error;
        ASSERT_TRUE(Evaluate(c, d, &action, &error)) << c.name << " nr " << nr << ": " << error;
      }
    }
  }
}

}  // namespace
}  // namespace bulkhead
